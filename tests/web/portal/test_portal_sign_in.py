"""Signing in to the portal with a one-time link: reuse, expiry, tampering, enumeration, limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.models import AuditEvent, PortalLink, PortalSettings
from dermis.web.clinic.portal import signin
from dermis.web.clinic.portal.views import signin as signin_views
from dermis.web.clinic.reminders import delivery

LINK = re.compile(r"https?://[^/\s]+(/my/sign-in/[^/\s]+/)")


def ask(client: Client, email: str, ip: str = "203.0.113.5"):
    """Ask for a link, then run a worker round (the request only queues the email)."""
    response = client.post(reverse("portal-sign-in"), {"email": email}, REMOTE_ADDR=ip)
    delivery.run_round()
    return response


def link_in_mail() -> str:
    return LINK.search(mail.outbox[-1].body).group(1)


def test_a_known_address_gets_a_link_that_signs_in_once(world):
    client = Client()
    response = ask(client, "  NORA@example.org ")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-link-sent")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nora@example.org"]
    url = link_in_mail()
    token = url.rstrip("/").rsplit("/", 1)[1]
    # only the hash is stored
    assert not PortalLink.objects.filter(token_sha256=token).exists()
    assert PortalLink.objects.filter(token_sha256=signin.sha256(token)).count() == 1
    # GET does not use the link (a mail scanner's preview)
    assert client.get(url).status_code == 200
    assert client.get(reverse("portal-home")).status_code == 302
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("portal-home")
    home = client.get(reverse("portal-home"))
    assert home.status_code == 200 and b"Hello Nora" in home.content
    # reuse: refused, even from another device
    again = Client().post(url)
    assert again.status_code == 410
    assert AuditEvent.objects.filter(
        patient_id_ref=world.nora.pk, summary="portal: portal sign-in"
    ).exists()


def test_an_unknown_address_gets_the_same_answer(world):
    known, unknown = ask(Client(), "nora@example.org"), ask(Client(), "nobody@example.org")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1  # only the real patient was emailed
    page_known = Client().get(known["Location"]).content
    page_unknown = Client().get(unknown["Location"]).content
    assert page_known == page_unknown


def test_both_answers_are_padded_to_the_same_time(world, settings, monkeypatch):
    settings.PORTAL_SIGN_IN_SECONDS = 2.0
    waits = []
    monkeypatch.setattr(signin_views.time, "sleep", waits.append)
    ask(Client(), "nora@example.org")
    ask(Client(), "stranger@example.org")
    assert len(waits) == 2
    assert all(1.0 < w <= 2.0 for w in waits), waits


def test_an_expired_link_does_not_sign_in(world):
    ask(Client(), "nora@example.org")
    url = link_in_mail()
    later = timezone.now() + timedelta(minutes=15, seconds=1)
    with clock.frozen_at(later):
        response = Client().post(url)
    assert response.status_code == 410
    with clock.frozen_at(timezone.now() + timedelta(minutes=14)):
        assert Client().post(url).status_code == 302


@pytest.mark.parametrize("change", ["flip", "truncate", "extend", "random"])
def test_a_tampered_link_does_not_sign_in(world, change):
    ask(Client(), "nora@example.org")
    url = link_in_mail()
    token = url.rstrip("/").rsplit("/", 1)[1]
    bad = {
        "flip": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "truncate": token[:-2],
        "extend": token + "x",
        "random": "x" * 43,
    }[change]
    response = Client().post(reverse("portal-sign-in-link", args=[bad]))
    assert response.status_code == 410
    assert b"does not work" in response.content


def test_requests_are_limited_per_address_and_per_ip(world):
    for i in range(signin.PER_ADDRESS):
        assert ask(Client(), "nora@example.org", ip=f"198.51.100.{i}").status_code == 302
    refused = ask(Client(), "nora@example.org", ip="198.51.100.99")
    assert refused.status_code == 429
    assert b"too many sign-in requests" in refused.content.lower()
    assert len(mail.outbox) == signin.PER_ADDRESS
    # an unknown address is limited the same way (no difference to learn from)
    for i in range(signin.PER_ADDRESS):
        ask(Client(), "ghost@example.org", ip=f"192.0.2.{i}")
    assert ask(Client(), "ghost@example.org", ip="192.0.2.99").status_code == 429
    # one client IP asking for many addresses
    for i in range(signin.PER_IP):
        assert ask(Client(), f"p{i}@example.org", ip="203.0.113.77").status_code == 302
    assert ask(Client(), "other@example.org", ip="203.0.113.77").status_code == 429
    # the window passes
    with clock.frozen_at(timezone.now() + timedelta(minutes=16)):
        assert ask(Client(), "nora@example.org", ip="198.51.100.99").status_code == 302


def test_a_clinic_can_turn_the_portal_off(world):
    ask(Client(), "nora@example.org")
    url = link_in_mail()
    PortalSettings.objects.create(clinic=world.northgate, enabled=False)
    assert Client().post(url).status_code == 410
    mail.outbox.clear()
    assert ask(Client(), "nora@example.org").status_code == 302
    assert mail.outbox == []


def test_turning_the_portal_off_ends_a_signed_in_session(world):
    client = Client()
    ask(client, "nora@example.org")
    client.post(link_in_mail())
    assert client.get(reverse("portal-home")).status_code == 200
    PortalSettings.objects.create(clinic=world.northgate, enabled=False)
    assert client.get(reverse("portal-home")).status_code == 302


def test_a_bad_address_is_named(world):
    response = ask(Client(), "not-an-address")
    assert response.status_code == 422
    assert b"Enter a valid email address" in response.content


def test_signing_out_ends_the_portal_session(world):
    client = Client()
    ask(client, "nora@example.org")
    client.post(link_in_mail())
    client.post(reverse("portal-sign-out"))
    assert client.get(reverse("portal-home")).status_code == 302


def test_staff_are_not_signed_in_to_the_portal(client_as):
    response = client_as("pat").get(reverse("portal-home"))
    assert response.status_code == 302 and response["Location"] == reverse("portal-sign-in")


def test_an_empty_request_names_the_field(world):
    response = Client().post(reverse("portal-sign-in"), {})
    assert response.status_code == 422
    assert b"This field is required." in response.content
    assert mail.outbox == []
