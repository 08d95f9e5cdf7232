"""The sign-in email goes through the outbox: the request answers as fast for a known address as
for an unknown one, however slow the mail server; the worker round delivers a working link."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.models import PortalLink, PortalSettings, Reminder
from dermis.web.clinic.portal import signin
from dermis.web.clinic.reminders import delivery
from tests.web.test_reminders_delivery import Inbox, _free_port

SMTP_DELAY = 2.0  # seconds the mail server takes over each message
PADDING = 0.5
LINK = re.compile(r"https?://[^/\s]+(/my/sign-in/([^/\s]+)/)")


@pytest.fixture
def slow_inbox(settings):
    """A real SMTP server (aiosmtpd) that takes SMTP_DELAY seconds to accept each message."""
    handler = Inbox()
    handler.data_delay = SMTP_DELAY
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=30)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.PORTAL_SIGN_IN_SECONDS = PADDING
    yield handler
    controller.stop()


def timed_ask(email: str) -> tuple[float, object]:
    started = time.monotonic()
    response = Client().post(reverse("portal-sign-in"), {"email": email}, REMOTE_ADDR="192.0.2.8")
    return time.monotonic() - started, response


def test_a_known_address_answers_within_the_padding_like_an_unknown_one(world, slow_inbox, caplog):
    caplog.set_level(logging.DEBUG)
    Client().get(reverse("portal-sign-in"))  # the first request loads the site: not timed
    known_took, known = timed_ask("nora@example.org")
    unknown_took, unknown = timed_ask("nobody@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("portal-link-sent")
    # Both are padded, and neither waits for the mail server (the difference would be seconds).
    assert PADDING <= known_took < SMTP_DELAY, known_took
    assert PADDING <= unknown_took < SMTP_DELAY, unknown_took
    assert slow_inbox.messages == []  # nothing was sent inside the request
    assert not PortalLink.objects.exists()  # the link is issued when the email is sent

    outcomes = delivery.run_round()

    assert outcomes == {"sent": 1}
    (message,) = slow_inbox.messages
    assert message["To"] == "nora@example.org"
    assert message["Subject"] == "Your sign-in link for Northgate Skin Clinic"
    path, token = LINK.search(message.get_body(("plain",)).get_content()).groups()
    row = Reminder.objects.get(kind=Reminder.Kind.PORTAL_LINK)
    assert row.status == Reminder.Status.SENT and row.message_id == message["Message-ID"]
    # the token is stored nowhere in clear and never logged
    ours = "\n".join(  # the test's SMTP server ("mail.log") logs what it receives: not ours
        r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")
    )
    assert "sign-in" in ours  # the request log is there, and holds neither
    assert token not in ours and "nora@example.org" not in ours
    assert not Reminder.objects.filter(key__contains=token).exists()
    link = PortalLink.objects.get()
    assert link.token_sha256 == signin.sha256(token)
    assert link.expires_at == link.created_at + timedelta(minutes=15)
    # it signs in once
    client = Client()
    assert client.post(path).status_code == 302
    assert client.get(reverse("portal-home")).status_code == 200
    assert Client().post(path).status_code == 410
    # a second round has nothing left to send
    assert delivery.run_round() == {}


def test_a_request_the_worker_reaches_too_late_is_dropped(world):
    Client().post(reverse("portal-sign-in"), {"email": "nora@example.org"})
    with clock.frozen_at(timezone.now() + timedelta(minutes=15, seconds=1)):
        assert delivery.run_round() == {"cancelled": 1}
    row = Reminder.objects.get(kind=Reminder.Kind.PORTAL_LINK)
    assert row.status == Reminder.Status.CANCELLED
    assert row.last_error == "the request is more than 15 minutes old"
    assert not PortalLink.objects.exists()


def test_a_patient_who_declined_reminders_still_gets_the_link_they_asked_for(world):
    from django.core import mail

    world.nora.email_reminders = False
    world.nora.save()
    Client().post(reverse("portal-sign-in"), {"email": "nora@example.org"})
    assert delivery.run_round() == {"sent": 1}
    assert LINK.search(mail.outbox[0].body)


def test_turning_the_portal_off_before_the_worker_runs_sends_nothing(world):
    from django.core import mail

    Client().post(reverse("portal-sign-in"), {"email": "nora@example.org"})
    PortalSettings.objects.create(clinic=world.northgate, enabled=False)
    delivery.run_round()
    assert mail.outbox == [] and not PortalLink.objects.exists()
    row = Reminder.objects.get(kind=Reminder.Kind.PORTAL_LINK)
    assert (row.status, row.last_error) == (Reminder.Status.CANCELLED, "the portal is off")
