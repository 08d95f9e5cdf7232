"""The move page: the patient's own appointment, free times to choose from (and later ones), the
move, and the new time on /my/ and /my/plan/; inside the notice period, "please call"."""

from __future__ import annotations

import html
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.models import Appointment, AuditEvent
from tests import factories
from tests.conftest import portal_client


def _url(appointment, **query) -> str:
    url = reverse("portal-move", args=[appointment.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _offered(response) -> list[str]:
    page = response.content.decode()
    return [part.split('"')[0] for part in page.split('name="start" value="')[1:]]


def test_the_patient_moves_an_appointment_and_sees_the_new_time(world):
    factories.working_hours(world.pat)
    appointment = factories.appointment(
        world.pat, world.nora, factories.next_weekday_at(10, days_ahead=6)
    )
    client = portal_client(world.nora)
    plan = _text(client.get(reverse("portal-plan")))
    assert _url(appointment) in plan and "move or cancel an appointment online up to 24" in plan

    page = client.get(_url(appointment))
    assert page.status_code == 200
    offered = _offered(page)
    assert len(offered) == 8
    chosen = offered[2]

    moved = client.post(_url(appointment), {"start": chosen})

    assert moved.status_code == 302 and moved["Location"] == reverse("portal-plan")
    appointment.refresh_from_db()
    new = timezone.localtime(appointment.start)
    assert appointment.start == timezone.datetime.fromisoformat(chosen)
    shown = f"{new:%A} {new.day} {new:%B %Y}, {new:%H:%M}"
    after = _text(client.get(reverse("portal-plan")))
    assert f"Your appointment is moved to {new:%A} {new.day} {new:%B %Y} at {new:%H:%M}" in after
    assert shown in after
    assert shown in _text(client.get(reverse("portal-home")))
    assert AuditEvent.objects.filter(summary="portal: rescheduled").count() == 1


def test_later_times_follow_the_first_page(world):
    factories.working_hours(world.pat)
    appointment = factories.appointment(
        world.pat, world.nora, factories.next_weekday_at(10, days_ahead=6)
    )
    client = portal_client(world.nora)
    first = client.get(_url(appointment))
    later_from = _text(first).split('href="?from=')[1].split('"')[0]
    later = client.get(_url(appointment, **{"from": later_from}))
    assert later.status_code == 200 and "later times" in _text(later)
    assert min(_offered(later)) > max(_offered(first))


def test_inside_the_notice_period_the_page_says_call_the_clinic(world):
    factories.working_hours(world.pat)
    world.northgate.phone = "0113 496 0000"
    world.northgate.save()
    soon = factories.appointment(world.pat, world.nora, factories.soon_within_hours())
    client = portal_client(world.nora)
    plan = _text(client.get(reverse("portal-plan")))
    assert _url(soon) not in plan and "please call Northgate Skin Clinic on 0113 496 0000" in plan
    page = client.get(_url(soon))
    assert page.status_code == 409
    assert "please call Northgate Skin Clinic on 0113 496 0000" in _text(page)
    assert 'name="start"' not in page.content.decode()
    tomorrow = (soon.start + timedelta(days=1)).isoformat()
    refused = client.post(_url(soon), {"start": tomorrow})
    assert refused.status_code == 409
    was = soon.start
    soon.refresh_from_db()
    assert soon.start == was


def test_a_taken_or_invalid_time_is_refused_in_plain_words(world):
    factories.working_hours(world.pat)
    appointment = factories.appointment(
        world.pat, world.nora, factories.next_weekday_at(10, days_ahead=6)
    )
    client = portal_client(world.nora)
    chosen = timezone.datetime.fromisoformat(_offered(client.get(_url(appointment)))[0])
    other = factories.patient(world.pat, given="Ned", family="Hart")
    factories.appointment(world.pat, other, chosen)  # taken meanwhile

    taken = client.post(_url(appointment), {"start": chosen.isoformat()})
    assert taken.status_code == 409
    assert "That time is no longer free" in _text(taken)
    bad = client.post(_url(appointment), {"start": "next tuesday"})
    assert bad.status_code == 400 and "Choose one of the free times." in _text(bad)
    appointment.refresh_from_db()
    assert appointment.start - clock.now() > timedelta(days=5)


def test_another_patients_appointment_is_not_found_and_staff_sign_in(world, client_as):
    factories.working_hours(world.pat)
    appointment = factories.appointment(
        world.pat, world.nora, factories.next_weekday_at(10, days_ahead=6)
    )
    start = appointment.start + timedelta(days=1)
    rhys = portal_client(world.rhys)
    assert rhys.get(_url(appointment)).status_code == 404
    assert rhys.post(_url(appointment), {"start": start.isoformat()}).status_code == 404
    for persona in ("pat", "alice", "oscar"):
        response = client_as(persona).post(_url(appointment), {"start": start.isoformat()})
        assert response.status_code == 302 and response["Location"] == reverse("portal-sign-in")
    assert Appointment.objects.get(pk=appointment.pk).start == appointment.start
