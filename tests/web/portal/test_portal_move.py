"""The patient moves their own appointment through the staff's reschedule service: only their
own, only outside the clinic's notice period, only to a time the safety gate allows and that keeps
the series' intervals without moving another session; audited as the portal; reminders follow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import Appointment, AuditEvent, RecallEntry, Reminder
from dermis.web.clinic.portal import moving
from dermis.web.clinic.scheduling import lifecycle, reschedule, series
from tests import factories
from tests.web.portal.portal_kit import treated_yesterday
from tests.web.test_series_booking import accepted_plan, weekday_hours

LOW, HIGH = 28, 42  # rolling acne scars, microneedling: the knowledge base's interval range


@pytest.fixture
def booked(world) -> list[Appointment]:
    """Nora's 4-session series with pat, 28 days apart, booked by the front desk."""
    weekday_hours(world.pat)
    plan = accepted_plan(world.nora, world.pat)
    now = timezone.now()
    prefs = series.Preferences(world.pat, world.northgate.locations.get())
    setup = series.setup(plan, prefs, now)
    made = series.book(
        factories.actor(world.fran), setup, list(series.propose(setup).proposal.slots), now
    )
    assert len(made) == 4
    return made


def as_patient(patient) -> Actor:
    return Actor.of_patient(patient, path="/my/", ip_address="203.0.113.9")


def move(actor: Actor, appointment: Appointment, start) -> reschedule.Preview:
    now = clock.now()
    proposed = reschedule.preview(appointment, start, now)
    return reschedule.apply(actor, appointment, start, proposed.fingerprint(), now)


def day(moment):
    return timezone.localtime(moment).date()


def test_the_patient_moves_their_last_session_to_an_offered_time(world, booked):
    last = booked[-1]
    before = day(booked[-2].start)
    offers = moving.offers(last, clock.now())
    assert offers.starts, "free times within the interval after session 3"
    assert all(LOW <= (day(s) - before).days <= HIGH for s in offers.starts)
    assert len({day(s) for s in offers.starts}) == len(offers.starts)  # one a day
    new = offers.starts[1]

    move(as_patient(world.nora), last, new)

    last.refresh_from_db()
    assert last.start == new and last.status == Appointment.Status.BOOKED
    assert [a.start for a in booked[:3]] == [
        a.start for a in Appointment.objects.filter(pk__in=[b.pk for b in booked[:3]])
    ]
    event = AuditEvent.objects.filter(object_id=str(last.pk), summary__contains="rescheduled").get()
    assert event.summary == "portal: rescheduled"  # the channel, as every portal write
    assert event.patient_id_ref == world.nora.pk and event.username == f"(patient {world.nora.pk})"
    reminder = Reminder.objects.get(key=f"appt:{last.pk}:appointment:email")
    assert reminder.due_at == new - timedelta(hours=48)  # the reminder follows, as for staff


def test_another_patients_appointment_is_not_found(world, booked):
    neighbour = factories.patient(world.pat, given="Ned", family="Hart")  # the same clinic
    last, was = booked[-1], booked[-1].start
    for other in (neighbour, world.rhys):
        with pytest.raises(ServiceError) as refused:
            move(as_patient(other), last, was + timedelta(days=7))
        assert refused.value.status == 404
    last.refresh_from_db()
    assert last.start == was


def test_inside_the_notice_period_the_patient_is_told_to_call(world):
    factories.working_hours(world.pat)
    world.northgate.phone = "0113 496 0000"
    world.northgate.save()
    soon = factories.appointment(
        world.pat, world.nora, factories.soon_within_hours(timedelta(hours=11))
    )  # 11 to 23 hours away
    was = soon.start
    with pytest.raises(ServiceError) as refused:
        move(as_patient(world.nora), soon, soon.start + timedelta(days=3))
    assert refused.value.message == (
        "It is less than 24 hours before this appointment: please call Northgate Skin Clinic "
        "on 0113 496 0000."
    )
    assert moving.why_not_movable(soon, clock.now()) == refused.value.message
    # the clinic's one notice period decides: at 10 hours the same appointment may move
    from dermis.web.clinic.scheduling import setup

    setup.set_cancel_notice(factories.actor(world.alice), 10)
    soon.clinic.refresh_from_db()
    assert not lifecycle.inside_notice(soon, clock.now())
    move(as_patient(world.nora), soon, soon.start + timedelta(days=3))
    soon.refresh_from_db()
    assert day(soon.start) == day(was + timedelta(days=3))


def test_a_new_time_inside_the_notice_period_is_refused(world):
    factories.working_hours(world.pat)
    later = factories.appointment(
        world.pat, world.nora, factories.next_weekday_at(10, days_ahead=5)
    )
    with pytest.raises(ServiceError, match="at least 24 hours from now"):
        move(as_patient(world.nora), later, factories.soon_within_hours())


def test_a_time_the_gate_defers_is_not_offered_and_is_refused(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    treated = treated_yesterday(world)  # the next microneedling: not before 28 days after it
    factories.working_hours(world.pat)
    start = timezone.localtime(treated.performed_at) + timedelta(days=35)
    appointment = factories.appointment(
        world.pat,
        world.nora,
        start.replace(hour=10, minute=0),
        kind=Appointment.Kind.TREATMENT,
        modality="microneedling",
        plan=treated.plan,
    )
    earliest = day(treated.performed_at) + timedelta(days=LOW)
    offers = moving.offers(appointment, clock.now())
    assert offers.starts and all(day(s) >= earliest for s in offers.starts)
    too_soon = timezone.localtime(clock.now() + timedelta(days=10)).replace(hour=10, minute=0)
    with pytest.raises(ServiceError) as refused:
        move(as_patient(world.nora), appointment, too_soon)
    assert refused.value.code.startswith("unsafe:")
    plain = moving.refusal(refused.value)
    assert "can't be given on that day" in plain
    assert "source" not in plain.lower() and "dermis_" not in plain
    appointment.refresh_from_db()
    assert appointment.start == start.replace(hour=10, minute=0)


def test_a_middle_session_moves_only_within_its_neighbours_intervals(world, booked):
    second = booked[1]
    offers = moving.offers(second, clock.now())
    # 28 days after session 1 and 28 before session 3: only its own day keeps both intervals
    assert offers.starts and all(day(s) == day(second.start) for s in offers.starts)
    assert second.start not in offers.starts
    with pytest.raises(ServiceError) as refused:
        move(as_patient(world.nora), second, second.start + timedelta(days=7))
    assert refused.value.message == reschedule.SPACING
    assert [a.start for a in Appointment.objects.filter(patient=world.nora).order_by("start")] == [
        a.start for a in booked
    ]
    move(as_patient(world.nora), second, offers.starts[0])  # a later time the same day
    after = list(Appointment.objects.filter(patient=world.nora).order_by("start"))
    assert [a.start for a in after] == [
        booked[0].start,
        offers.starts[0],
        *(a.start for a in booked[2:]),
    ]


def test_later_times_page_on_from_the_last_day_shown(world, booked):
    last = booked[-1]
    first = moving.offers(last, clock.now())
    later = moving.offers(last, clock.now(), first.later_from)
    assert first.later_from is not None and later.starts
    assert min(later.starts) > max(first.starts)
    assert day(min(later.starts)) >= first.later_from


def test_a_cancelled_appointment_cannot_move(world, booked):
    last = booked[-1]
    lifecycle.change_status(factories.actor(world.fran), last, "cancelled", reason="ill")
    new = last.start + timedelta(days=3)
    with pytest.raises(ServiceError) as refused:
        reschedule.apply(as_patient(world.nora), last, new, "", clock.now())
    assert refused.value.status == 409
    assert moving.why_not_movable(last, clock.now()) == (
        "This appointment can no longer be changed online."
    )


def test_the_patient_cannot_cancel_inside_the_notice_period_through_the_service(world):
    factories.working_hours(world.pat)
    soon = factories.appointment(world.pat, world.nora, factories.soon_within_hours())
    with pytest.raises(ServiceError, match="please call"):
        lifecycle.change_status(as_patient(world.nora), soon, "cancelled", reason="by the patient")
    soon.refresh_from_db()
    assert soon.status == Appointment.Status.BOOKED
    # the front desk may: a late cancellation
    lifecycle.change_status(factories.actor(world.fran), soon, "cancelled", reason="called in")
    soon.refresh_from_db()
    assert soon.status == Appointment.Status.CANCELLED and soon.late_cancel


def test_the_recall_rows_follow_the_move(world, booked):
    for later in booked[2:]:  # half the series still booked: the patient is on the recall list
        lifecycle.change_status(factories.actor(world.fran), later, "cancelled", reason="away")
    second = booked[1]
    rows = RecallEntry.objects.filter(patient=world.nora)
    assert [r.due for r in rows] == [day(second.start)]  # the series row: last session booked
    new = moving.offers(second, clock.now()).starts[-1]
    assert new > second.start

    move(as_patient(world.nora), second, new)

    assert [r.due for r in rows.all()] == [day(new)]
