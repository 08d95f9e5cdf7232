"""SMS: a backend interface, the console backend, and reminders sent through it once."""

from __future__ import annotations

import io
from datetime import time, timedelta

import pytest
from django.utils import timezone

from dermis.web.clinic.models import Reminder
from dermis.web.clinic.reminders import delivery, sms
from dermis.web.clinic.reminders import services as reminders
from dermis.web.clinic.scheduling.booking import Booking, book

Kind, Channel, Status = Reminder.Kind, Reminder.Channel, Reminder.Status


class RefusingBackend:
    """A provider that turns every message down (loaded by dotted path from the settings)."""

    def send(self, to: str, body: str, *, reference: str = "") -> str:
        raise sms.SMSError("provider said no")


@pytest.fixture
def memory_sms(settings):
    settings.SMS_BACKEND = "dermis.web.clinic.reminders.sms.MemorySMSBackend"
    sms.MemorySMSBackend.outbox.clear()
    yield sms.MemorySMSBackend.outbox
    sms.MemorySMSBackend.outbox.clear()


def _due_sms(world, kind: str = Kind.APPOINTMENT) -> Reminder:
    start = reminders.at_clinic_time(timezone.localdate() + timedelta(days=10), time(9, 30))
    appt = book(world.nora, Booking(start, start + timedelta(hours=1), world.pat))
    reminders.plan_for_appointment(appt)
    row = Reminder.objects.get(appointment=appt, kind=kind, channel=Channel.SMS)
    now = timezone.now()
    Reminder.objects.filter(pk=row.pk).update(due_at=now, next_try_at=now)
    return row


def test_the_settings_name_the_console_backend_by_default():
    assert isinstance(sms.get_sms_backend(), sms.ConsoleSMSBackend)


def test_the_console_backend_prints_the_message_and_returns_an_id():
    out = io.StringIO()

    message_id = sms.ConsoleSMSBackend(out).send("07700 900123", "Hello", reference="ref-1")

    assert message_id == "ref-1"
    assert out.getvalue().startswith("SMS to 07700 900123 (id ref-1)\nHello\n")


def test_get_sms_backend_loads_the_class_the_settings_name(settings):
    settings.SMS_BACKEND = "tests.web.test_sms_backend.RefusingBackend"

    assert isinstance(sms.get_sms_backend(), RefusingBackend)


def test_an_sms_reminder_goes_through_the_backend_once(world, memory_sms):
    row = _due_sms(world)

    assert delivery.deliver(row.pk) == "sent"
    assert delivery.deliver(row.pk) == "sent"

    (message,) = memory_sms
    row.refresh_from_db()
    assert message.to == "07700 900123"
    assert message.body.startswith("Northgate Skin Clinic: reminder of your treatment session on")
    assert "at 09:30 with Pat Practitioner" in message.body
    assert message.reference == reminders.message_id(row.key).strip("<>").partition("@")[0]
    assert row.status == Status.SENT
    assert row.message_id == f"sms:{message.reference}"


def test_an_sms_opt_out_is_honoured_when_sending(world, memory_sms):
    row = _due_sms(world)
    world.nora.sms_reminders = False
    world.nora.save()

    assert delivery.deliver(row.pk) == Status.OPTED_OUT
    assert memory_sms == []


def test_a_refused_sms_is_kept_for_a_retry(world, settings):
    row = _due_sms(world)
    settings.SMS_BACKEND = "tests.web.test_sms_backend.RefusingBackend"

    assert delivery.deliver(row.pk) == "retry"

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 1, "provider said no")


def test_a_patient_without_a_phone_number_any_more_is_recorded_as_failed(world, memory_sms):
    row = _due_sms(world)
    world.nora.phone = ""
    world.nora.save()

    assert delivery.deliver(row.pk) == Status.FAILED

    row.refresh_from_db()
    assert (row.status, row.last_error) == (Status.FAILED, "no phone number")
    assert memory_sms == []
