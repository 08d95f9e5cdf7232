"""Moving one session of a booked series: the later sessions shift only as far as the plan's
intervals need, all moves are applied together (or none), reminders follow; cancelling."""

from __future__ import annotations

import html
import itertools
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.models import Appointment, AuditEvent, Reminder
from dermis.web.clinic.scheduling import series
from dermis.web.clinic.scheduling.booking import Booking, book
from tests import factories
from tests.web.test_series_booking import accepted_plan, weekday_hours

LOW, HIGH = 28, 42  # rolling acne scars, microneedling: the knowledge base's interval range


@pytest.fixture
def booked(world) -> list[Appointment]:
    """Nora's 4-session series with pat, booked through the series service."""
    weekday_hours(world.pat)
    plan = accepted_plan(world.nora, world.pat)
    now = timezone.now()
    prefs = series.Preferences(world.pat, world.northgate.locations.get())
    setup = series.setup(plan, prefs, now)
    made = series.book(
        factories.actor(plan.patient.clinic.staff.get(role="admin")),
        setup,
        list(series.propose(setup).proposal.slots),
        now,
    )
    assert len(made) == 4
    return made


def _url(appointment, name="appointment-reschedule") -> str:
    return reverse(name, kwargs={"pk": appointment.pk})


def _when(start) -> dict:
    local = timezone.localtime(start)
    return {"day": local.date().isoformat(), "time": local.strftime("%H:%M")}


def _gaps(appointments) -> list[int]:
    days = [timezone.localtime(a.start).date() for a in appointments]
    return [(b - a).days for a, b in itertools.pairwise(days)]


def _text(response) -> str:
    return html.unescape(response.content.decode()).lower()


def _series(world) -> list[Appointment]:
    return list(
        Appointment.objects.filter(patient=world.nora, status="booked").order_by("series_index")
    )


def test_moving_session_2_later_shifts_3_and_4_and_keeps_every_interval(world, booked, client_as):
    client = client_as("pat")
    second = booked[1]
    assert _gaps(booked) == [LOW] * 3  # the proposal aims at the course's interval (28 days)
    new_start = second.start + timedelta(days=14)  # 42 days after session 1, 14 before session 3

    preview = client.post(_url(second), {"action": "preview", **_when(new_start)})

    assert preview.status_code == 200
    p = preview.context["preview"]
    assert p.result.ok
    assert p.broken == ("session 3 would be 14 days after session 2; allowed 28-42",)
    assert [m.appointment.pk for m in p.moves()] == [booked[1].pk, booked[2].pk, booked[3].pk]
    text = preview.content.decode()
    assert "Move these 3 sessions" in text and "to stay 28-42 days after session 2" in text
    assert [a.start for a in _series(world)] == [a.start for a in booked]  # nothing moved yet

    confirm = client.post(
        _url(second), {"action": "confirm", **_when(new_start), "fingerprint": p.fingerprint()}
    )

    assert confirm.status_code == 302
    after = _series(world)
    assert after[0].start == booked[0].start
    assert after[1].start == new_start
    assert all(LOW <= gap <= HIGH for gap in _gaps(after)), _gaps(after)
    assert after[2].start > booked[2].start and after[3].start > booked[3].start
    for a in after[1:]:  # the appointment reminders follow the moved sessions
        row = Reminder.objects.get(key=f"appt:{a.pk}:appointment:email")
        assert row.due_at == a.start - timedelta(hours=48)
    assert AuditEvent.objects.filter(action="update", object_type="Appointment").count() == 3


def test_a_small_move_that_keeps_the_intervals_moves_one_session(world, booked, client_as):
    client = client_as("fran")  # front desk moves appointments too
    last = booked[3]
    # Two days later (30 after session 3: still in range), or the next working day after that
    # (pat works Monday to Friday, and the series falls on today's weekday).
    new_start = next(
        last.start + timedelta(days=days)
        for days in range(2, HIGH - LOW + 1)
        if timezone.localtime(last.start + timedelta(days=days)).weekday() < 5
    )
    p = client.post(_url(last), {"action": "preview", **_when(new_start)}).context["preview"]
    assert p.result.ok and p.broken == () and len(p.moves()) == 1
    data = {"action": "confirm", **_when(new_start), "fingerprint": p.fingerprint()}
    assert client.post(_url(last), data).status_code == 302
    after = _series(world)
    assert [a.start for a in after] == [*(a.start for a in booked[:3]), new_start]


def test_a_change_in_the_calendar_after_the_preview_moves_nothing(world, booked, client_as):
    client = client_as("pat")
    second = booked[1]
    new_start = second.start + timedelta(days=14)
    p = client.post(_url(second), {"action": "preview", **_when(new_start)}).context["preview"]
    shifted = p.moves()[1]  # session 3's proposed new time
    book(world.rhys, Booking(shifted.start, shifted.end, world.pat))

    data = {"action": "confirm", **_when(new_start), "fingerprint": p.fingerprint()}
    response = client.post(_url(second), data)

    assert response.status_code == 409
    assert "Nothing was moved" in response.content.decode()
    assert [a.start for a in _series(world)] == [a.start for a in booked]
    assert response.context["preview"].result.ok  # a new proposal is shown to confirm instead


def test_a_time_outside_the_working_hours_or_the_interval_is_refused(world, booked, client_as):
    client = client_as("pat")
    second = booked[1]
    evening = timezone.localtime(second.start).replace(hour=19, minute=0)
    response = client.post(_url(second), {"action": "preview", **_when(evening)})
    assert response.status_code == 409
    assert "outside practitioner pat practitioner's working hours" in _text(response)

    too_soon = second.start - timedelta(days=7)  # 21 days after session 1
    response = client.post(_url(second), {"action": "preview", **_when(too_soon)})
    assert response.status_code == 409
    assert "session 2 would be 21 days after session 1; allowed 28-42" in _text(response)
    assert [a.start for a in _series(world)] == [a.start for a in booked]


def test_a_past_time_or_a_missing_field_is_named(world, booked, client_as):
    client = client_as("pat")
    past = timezone.now() - timedelta(days=1)
    response = client.post(_url(booked[1]), {"action": "preview", **_when(past)})
    assert response.status_code == 400
    assert "day" in response.context["form"].errors
    response = client.post(_url(booked[1]), {"action": "preview", "day": "2030-01-01"})
    assert response.status_code == 400
    assert "time" in response.context["form"].errors


def test_the_page_suggests_free_times_within_the_interval(world, booked, client_as):
    response = client_as("pat").get(_url(booked[1]))
    assert response.status_code == 200
    suggestions = response.context["suggestions"]
    assert suggestions
    first = timezone.localtime(booked[0].start).date()
    for start in suggestions:
        assert LOW <= (timezone.localtime(start).date() - first).days <= HIGH
        assert start.weekday() < 5 and time(9) <= timezone.localtime(start).time()


def test_a_single_appointment_moves_without_interval_checks(world, client_as):
    weekday_hours(world.pat)
    start = timezone.localtime(timezone.now() + timedelta(days=7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    while start.weekday() > 4:
        start += timedelta(days=1)
    single = book(world.nora, Booking(start, start + timedelta(hours=1), world.pat))
    new_start = start + timedelta(hours=2)
    client = client_as("fran")
    p = client.post(_url(single), {"action": "preview", **_when(new_start)}).context["preview"]
    data = {"action": "confirm", **_when(new_start), "fingerprint": p.fingerprint()}
    assert client.post(_url(single), data).status_code == 302
    single.refresh_from_db()
    assert (single.start, single.end) == (new_start, new_start + timedelta(hours=1))


def test_a_done_appointment_cannot_be_moved(world, booked, client_as):
    Appointment.objects.filter(pk=booked[0].pk).update(status=Appointment.Status.COMPLETED)
    response = client_as("pat").get(_url(booked[0]))
    assert response.status_code == 409
    assert "cannot be moved" in response.content.decode()


def test_cancelling_frees_the_slot_and_stops_its_reminders(world, booked, client_as):
    target = booked[2]
    assert Reminder.objects.filter(appointment=target, status="pending").exists()
    response = client_as("fran").post(_url(target, "appointment-cancel"), {"reason": "unwell"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.status == Appointment.Status.CANCELLED
    pending = Reminder.objects.filter(appointment=target, status="pending")
    assert not pending.exclude(key__startswith="confirm:").exists()
    # The slot is free again: another patient can have it.
    book(world.rhys, Booking(target.start, target.end, world.pat))
    again = client_as("pat").post(_url(target, "appointment-cancel"), {"reason": "unwell"})
    assert again.status_code == 409
    assert Appointment.objects.get(pk=target.pk).status == Appointment.Status.CANCELLED


@pytest.mark.parametrize("name", ["appointment-reschedule", "appointment-cancel"])
def test_who_may_move_or_cancel(world, booked, client_as, name):
    url = _url(booked[1], name)
    assert client_as("oscar").post(url).status_code == 404
    assert client_as("nobody").post(url).status_code == 403
    anonymous = client_as("anonymous").post(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    if name == "appointment-cancel":
        assert "Are you sure?" in client_as("pat").get(url).content.decode()
    assert Appointment.objects.get(pk=booked[1].pk).status == Appointment.Status.BOOKED
