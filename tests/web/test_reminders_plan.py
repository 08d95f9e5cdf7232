"""Planning reminders: idempotent rows, opt-outs on record, nothing in the past, moves re-timed."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from dermis.web.clinic.models import Appointment, Equipment, Reminder
from dermis.web.clinic.reminders import services as reminders
from dermis.web.clinic.reminders.services import at_clinic_time
from dermis.web.clinic.scheduling.booking import Booking, book, book_series, move

Kind, Channel, Status = Reminder.Kind, Reminder.Channel, Reminder.Status
HOUR = timedelta(hours=1)


@pytest.fixture
def nora(world):
    world.nora.fitzpatrick = "II"  # pre-care comes from the core, which needs the phototype
    world.nora.save()
    return world.nora


def _start(days: int, hour: int = 14):
    return at_clinic_time(timezone.localdate() + timedelta(days=days), time(hour))


def _treatment(world, days: int = 10, *, kind=Appointment.Kind.TREATMENT) -> Appointment:
    pen = Equipment.objects.create(clinic=world.northgate, name="Pen", device="automated_pen")
    start = _start(days)
    return book(world.nora, Booking(start, start + HOUR, world.pat, equipment=pen), kind=kind)


def _rows(appointment) -> dict[tuple[str, str], Reminder]:
    return {(r.kind, r.channel): r for r in Reminder.objects.filter(appointment=appointment)}


def test_a_treatment_gets_reminder_precare_and_two_check_ins_on_each_channel(world, nora):
    appt = _treatment(world, days=10)

    reminders.plan_for_appointment(appt)

    rows = _rows(appt)
    kinds = [Kind.APPOINTMENT, Kind.PRECARE, Kind.AFTERCARE_DAY1, Kind.AFTERCARE_DAY3]
    assert set(rows) == {(k, c) for k in kinds for c in (Channel.EMAIL, Channel.SMS)}
    assert {r.status for r in rows.values()} == {Status.PENDING}
    day = timezone.localtime(appt.start).date()
    assert rows[Kind.APPOINTMENT, Channel.EMAIL].due_at == appt.start - timedelta(hours=48)
    assert rows[Kind.AFTERCARE_DAY1, Channel.EMAIL].due_at == at_clinic_time(day + timedelta(1))
    assert rows[Kind.AFTERCARE_DAY3, Channel.SMS].due_at == at_clinic_time(day + timedelta(3))
    # No tanning (14 days) and skin priming (28) are already past; waxing (7 days) is ahead.
    assert rows[Kind.PRECARE, Channel.EMAIL].due_at == at_clinic_time(day - timedelta(7))
    assert rows[Kind.APPOINTMENT, Channel.EMAIL].key == f"appt:{appt.pk}:appointment:email"


def _queue() -> dict[int, object]:
    """The worker's queue: pending rows by id, with the time each may be tried."""
    rows = Reminder.objects.filter(status=Status.PENDING, next_try_at__isnull=False)
    return dict(rows.values_list("pk", "next_try_at"))


def test_planning_twice_gives_the_same_rows_and_queues_nothing_new(world, nora):
    appt = _treatment(world)
    first = reminders.plan_for_appointment(appt)
    queue = _queue()
    second = reminders.plan_for_appointment(appt)

    assert [r.pk for r in first] == [r.pk for r in second]
    assert [(r.due_at, r.status) for r in first] == [(r.due_at, r.status) for r in second]
    assert Reminder.objects.count() == len(first) == 8
    assert _queue() == queue and len(queue) == 8


def test_each_pending_row_is_queued_for_its_due_time(world, nora):
    nora.sms_reminders = False
    nora.save()
    appt = _treatment(world)
    rows = reminders.plan_for_appointment(appt)

    pending = {r.pk: r.due_at for r in rows if r.status == Status.PENDING}
    assert _queue() == pending
    assert len(pending) == 4


def _book_and_plan_then_fail(world) -> None:
    with transaction.atomic():
        reminders.plan_for_appointment(_treatment(world))
        raise RuntimeError("booking failed after planning")


def test_a_rolled_back_booking_queues_nothing(world, nora):
    with pytest.raises(RuntimeError):
        _book_and_plan_then_fail(world)

    assert Reminder.objects.count() == 0


def test_an_opted_out_channel_is_recorded_not_sent(world, nora):
    nora.sms_reminders = False
    nora.save()
    appt = _treatment(world)

    rows = reminders.plan_for_appointment(appt)

    by_channel = {c: {r.status for r in rows if r.channel == c} for c in Channel.values}
    assert by_channel == {Channel.EMAIL: {Status.PENDING}, Channel.SMS: {Status.OPTED_OUT}}
    assert set(_queue()) == {r.pk for r in rows if r.channel == Channel.EMAIL}


def test_sms_reminders_turned_off_plan_no_sms_rows(world, nora, settings):
    settings.SMS_REMINDERS = False

    rows = reminders.plan_for_appointment(_treatment(world))

    assert {r.channel for r in rows} == {Channel.EMAIL}


def test_opting_back_in_turns_the_rows_pending_again(world, nora):
    nora.email_reminders = False
    nora.save()
    appt = _treatment(world)
    reminders.plan_for_appointment(appt)
    nora.email_reminders = True
    nora.save()

    rows = reminders.plan_for_appointment(appt)

    assert {r.status for r in rows if r.channel == Channel.EMAIL} == {Status.PENDING}


def test_a_channel_without_an_address_gets_no_row(world, nora):
    nora.phone = ""
    nora.save()

    rows = reminders.plan_for_appointment(_treatment(world))

    assert {r.channel for r in rows} == {Channel.EMAIL}


def test_reminders_in_the_past_are_not_created(world, nora):
    appt = _treatment(world, days=1)  # tomorrow 14:00: 48 h and 2 days before have passed

    rows = reminders.plan_for_appointment(appt)

    assert {r.kind for r in rows} == {Kind.AFTERCARE_DAY1, Kind.AFTERCARE_DAY3}
    assert all(r.due_at > timezone.now() for r in rows)


def test_a_consultation_gets_only_the_appointment_reminder(world, nora):
    appt = _treatment(world, kind=Appointment.Kind.CONSULTATION)

    rows = reminders.plan_for_appointment(appt)

    assert {r.kind for r in rows} == {Kind.APPOINTMENT}


def test_no_precare_without_a_recorded_phototype(world):
    rows = reminders.plan_for_appointment(_treatment(world))  # nora's phototype is unset

    assert Kind.PRECARE not in {r.kind for r in rows}
    assert Kind.AFTERCARE_DAY1 in {r.kind for r in rows}


def test_a_moved_appointment_updates_the_pending_rows_instead_of_adding_rows(world, nora):
    appt = _treatment(world, days=10)
    before = {r.key: r for r in reminders.plan_for_appointment(appt)}
    sent = before[f"appt:{appt.pk}:aftercare_day3:sms"]
    Reminder.objects.filter(pk=sent.pk).update(status=Status.SENT)

    move(appt, appt.start + timedelta(days=3), appt.end + timedelta(days=3))
    after = {r.key: r for r in reminders.plan_for_appointment(appt)}

    assert Reminder.objects.count() == len(before)
    assert after.keys() == before.keys()
    assert after[f"appt:{appt.pk}:appointment:email"].due_at == appt.start - timedelta(hours=48)
    day3 = at_clinic_time(timezone.localtime(appt.start).date() + timedelta(3))
    assert after[f"appt:{appt.pk}:aftercare_day3:email"].due_at == day3
    # A row already sent is history: neither re-timed nor sent again.
    assert after[sent.key].status == Status.SENT
    assert after[sent.key].due_at == sent.due_at


def test_moving_an_appointment_closer_cancels_reminders_whose_time_has_passed(world, nora):
    appt = _treatment(world, days=10)
    reminders.plan_for_appointment(appt)
    start = _start(days=1)

    move(appt, start, start + HOUR)
    reminders.plan_for_appointment(appt)

    rows = _rows(appt)
    assert rows[Kind.APPOINTMENT, Channel.EMAIL].status == Status.CANCELLED
    assert rows[Kind.PRECARE, Channel.EMAIL].status == Status.CANCELLED
    assert rows[Kind.AFTERCARE_DAY1, Channel.EMAIL].status == Status.PENDING


def test_cancelling_an_appointment_cancels_its_pending_reminders(world, nora):
    appt = _treatment(world)
    rows = reminders.plan_for_appointment(appt)
    Reminder.objects.filter(pk=rows[0].pk).update(status=Status.SENT)

    cancelled = reminders.cancel_for_appointment(appt)

    statuses = [r.status for r in Reminder.objects.filter(appointment=appt).order_by("due_at")]
    assert cancelled == len(rows) - 1
    assert statuses == [Status.SENT] + [Status.CANCELLED] * (len(rows) - 1)


def test_replanning_a_cancelled_appointment_plans_nothing(world, nora):
    appt = _treatment(world)
    reminders.plan_for_appointment(appt)
    Appointment.objects.filter(pk=appt.pk).update(status=Appointment.Status.CANCELLED)
    appt.refresh_from_db()

    assert reminders.plan_for_appointment(appt) == []
    assert set(Reminder.objects.values_list("status", flat=True)) == {Status.CANCELLED}


def test_a_recall_is_planned_once_per_channel_at_ten_in_the_morning(world, nora):
    due = timezone.localdate() + timedelta(days=90)

    first = reminders.plan_recall(nora, due)
    second = reminders.plan_recall(nora, due)

    assert [r.pk for r in first] == [r.pk for r in second]
    assert {(r.kind, r.channel) for r in first} == {
        (Kind.RECALL, Channel.EMAIL),
        (Kind.RECALL, Channel.SMS),
    }
    assert {r.due_at for r in first} == {at_clinic_time(due)}
    assert all(r.appointment is None for r in first)


def test_a_recall_in_the_past_is_not_planned(world, nora):
    assert reminders.plan_recall(nora, date(2000, 1, 1)) == []
    assert Reminder.objects.count() == 0


def test_a_series_gets_one_booking_confirmation(world, nora):
    starts = [_start(days) for days in (10, 38, 66)]
    series = book_series(nora, [Booking(s, s + HOUR, world.pat) for s in starts])

    rows = reminders.send_booking_confirmation(series)
    again = reminders.send_booking_confirmation(series)

    assert [r.pk for r in rows] == [r.pk for r in again]
    (row,) = rows
    assert row.key == f"confirm:series:{series[0].series_key}:email"
    assert (row.kind, row.channel, row.status) == (Kind.APPOINTMENT, Channel.EMAIL, Status.PENDING)
    assert row.appointment == series[0]
    assert row.due_at <= timezone.now()


def test_a_confirmation_respects_the_email_opt_out(world, nora):
    nora.email_reminders = False
    nora.save()

    (row,) = reminders.send_booking_confirmation([_treatment(world)])

    assert row.status == Status.OPTED_OUT
