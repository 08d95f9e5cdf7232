"""Delivering reminders through a real SMTP server (aiosmtpd) started by the test, read back."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from datetime import time, timedelta
from email.policy import default as email_policy

import icalendar
import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from dermis.core.aftercare import aftercare
from dermis.web.clinic.core_inputs import core_intake, core_patient, core_session, knowledge
from dermis.web.clinic.models import (
    Appointment,
    Equipment,
    Reminder,
    SessionArea,
    TreatmentSession,
)
from dermis.web.clinic.reminders import delivery
from dermis.web.clinic.reminders import services as reminders
from dermis.web.clinic.scheduling.booking import Booking, book, book_series

Kind, Channel, Status = Reminder.Kind, Reminder.Channel, Reminder.Status
HOUR = timedelta(hours=1)


class Inbox:
    """An aiosmtpd handler that keeps what it accepts; it can refuse or slow down on demand."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.refusal = "550 5.1.1"
        self.data_delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"{self.refusal} <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email_policy))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(settings):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=30)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    yield handler
    controller.stop()


@pytest.fixture
def nora(world):
    world.nora.fitzpatrick = "II"
    world.nora.save()
    return world.nora


def _start(days: int, hour: int = 14):
    return reminders.at_clinic_time(timezone.localdate() + timedelta(days=days), time(hour))


def _planned(world, kind: str, channel: str = Channel.EMAIL, days: int = 10) -> Reminder:
    """A planned reminder of `kind`, made due now (as if its time had come)."""
    pen = Equipment.objects.create(clinic=world.northgate, name="Pen", device="automated_pen")
    start = _start(days)
    where = world.northgate.locations.get()
    appt = book(world.nora, Booking(start, start + HOUR, world.pat, equipment=pen, location=where))
    reminders.plan_for_appointment(appt)
    row = Reminder.objects.get(appointment=appt, kind=kind, channel=channel)
    due = timezone.now() - timedelta(minutes=1)
    Reminder.objects.filter(pk=row.pk).update(due_at=due, next_try_at=due)
    row.refresh_from_db()
    return row


def test_a_booking_confirmation_arrives_with_the_series_as_an_ics(world, nora, inbox):
    starts = [_start(days) for days in (10, 38)]
    series = book_series(nora, [Booking(s, s + HOUR, world.pat) for s in starts])
    (row,) = reminders.send_booking_confirmation(series)

    assert delivery.deliver(row.pk) == "sent"

    (message,) = inbox.messages
    row.refresh_from_db()
    assert message["Subject"] == "Your booking at Northgate Skin Clinic"
    assert message["To"] == "nora@example.org"
    assert message["Message-ID"] == row.message_id == reminders.message_id(row.key)
    assert (row.status, row.attempts) == (Status.SENT, 0)
    body = message.get_body(("plain",)).get_content()
    assert "Hello Nora" in body and "Pat Practitioner" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "appointment.ics"
    raw = attachment.get_payload(decode=True)
    cal = icalendar.Calendar.from_ical(raw)
    events = sorted(cal.walk("VEVENT"), key=lambda e: e["DTSTART"].dt)
    assert [(e["DTSTART"].dt, e["DTEND"].dt) for e in events] == [(a.start, a.end) for a in series]
    assert [str(e["UID"]) for e in events] == [f"appointment-{a.pk}@dermis" for a in series]
    assert {str(e["SUMMARY"]) for e in events} == {"Treatment session at Northgate Skin Clinic"}
    text = raw.decode()
    for clinical in ("microneedling", "Quinn", "depth", "II"):
        assert clinical not in text


def test_an_appointment_reminder_reads_as_booked(world, nora, inbox):
    row = _planned(world, Kind.APPOINTMENT)

    delivery.deliver(row.pk)

    (message,) = inbox.messages
    local = timezone.localtime(row.appointment.start)
    assert message["Subject"] == (
        f"Reminder: your appointment at Northgate Skin Clinic on {local:%A %-d %B}"
    )
    body = message.get_body(("plain",)).get_content()
    assert f"{local:%A %-d %B %Y} at 14:00, with Pat Practitioner" in body
    assert "Northgate Skin Clinic, 1 Northgate, Leeds LS1 4AP" in body
    assert "&amp;" not in body  # plain text, not HTML-escaped


def test_precare_says_what_to_stop_and_from_when(world, nora, inbox):
    row = _planned(world, Kind.PRECARE)

    delivery.deliver(row.pk)

    body = inbox.messages[0].get_body(("plain",)).get_content()
    waxing = timezone.localtime(row.appointment.start).date() - timedelta(days=7)
    assert f"From {waxing:%A %-d %B}: No waxing" in body
    assert "Stop topical retinoids" in body
    assert "On the day: Arrive with clean skin" in body


def test_a_check_in_after_a_charted_session_carries_the_cores_aftercare(world, nora, inbox):
    row = _planned(world, Kind.AFTERCARE_DAY1)
    appt = row.appointment
    session = TreatmentSession.objects.create(
        patient=nora,
        appointment=appt,
        practitioner=world.pat,
        performed_at=appt.start,
        modality="microneedling",
        device="automated_pen",
    )
    SessionArea.objects.create(session=session, area="cheeks", depth_mm="1.00")
    schedule = aftercare(
        core_session(session), core_patient(nora, appt.start.date()), core_intake(None), knowledge()
    )
    day1 = next(d for d in schedule.days if d.number == 1)

    delivery.deliver(row.pk)

    body = inbox.messages[0].get_body(("plain",)).get_content()
    assert "It is day 1 after your treatment" in body
    assert day1.entries and all(e.text in body for e in day1.entries)
    assert all(w.text in body for w in schedule.warnings())


def test_delivering_twice_sends_once(world, nora, inbox):
    row = _planned(world, Kind.APPOINTMENT)

    assert delivery.deliver(row.pk) == "sent"
    assert delivery.deliver(row.pk) == "sent"  # already sent: nothing to do

    assert len(inbox.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_reminder_at_once_send_it_once(world, nora, inbox):
    row = _planned(world, Kind.APPOINTMENT)
    inbox.data_delay = 1.0  # the first worker is still mid-send when the second one starts
    start = threading.Barrier(2)
    results: list[str] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(delivery.deliver(row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert sorted(results) == ["not_due", "sent"]  # the second found it claimed
    assert len(inbox.messages) == 1
    assert Reminder.objects.get(pk=row.pk).status == Status.SENT


def test_a_refusal_fails_at_once_with_its_reason(world, nora, inbox):
    row = _planned(world, Kind.APPOINTMENT)
    inbox.refuse.add("nora@example.org")

    assert delivery.deliver(row.pk) == "failed"

    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_try_at) == (Status.FAILED, 1, None)
    assert row.last_error == "SMTPRecipientsRefused 550"  # no address from the server's text
    assert inbox.messages == []


def test_a_temporary_refusal_is_retried_with_backoff_then_fails(world, nora, inbox):
    row = _planned(world, Kind.APPOINTMENT)
    inbox.refuse.add("nora@example.org")
    inbox.refusal = "451 4.3.0"

    outcomes, delays = [], []
    for _ in range(delivery.MAX_ATTEMPTS):
        before = timezone.now()
        outcomes.append(delivery.deliver(row.pk))
        row.refresh_from_db()
        if row.next_try_at:
            delays.append(row.next_try_at - before)
            Reminder.objects.filter(pk=row.pk).update(next_try_at=before)  # time passes

    assert outcomes == ["retry"] * (delivery.MAX_ATTEMPTS - 1) + ["failed"]
    assert (row.status, row.attempts) == (Status.FAILED, delivery.MAX_ATTEMPTS)
    assert row.last_error == "SMTPRecipientsRefused 451"
    for i, delay in enumerate(delays):
        expected = delivery.RETRY_AFTER * 2**i
        assert expected <= delay <= expected + timedelta(seconds=5)
    assert inbox.messages == []


def test_an_unreachable_server_leaves_the_reminder_pending(world, nora, settings):
    row = _planned(world, Kind.APPOINTMENT)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nobody listens

    assert delivery.deliver(row.pk) == "retry"

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert row.last_error == "ConnectionRefusedError"
    assert row.next_try_at > timezone.now() + delivery.RETRY_AFTER - timedelta(seconds=5)


def test_an_unexpected_error_is_recorded_and_retried_then_fails(world, nora, inbox, monkeypatch):
    row = _planned(world, Kind.APPOINTMENT)

    def broken(reminder):
        raise KeyError("a bug")

    monkeypatch.setattr(delivery, "render", broken)
    outcomes = []
    for _ in range(delivery.MAX_ATTEMPTS):
        outcomes.append(delivery.deliver(row.pk))
        Reminder.objects.filter(pk=row.pk, status=Status.PENDING).update(next_try_at=timezone.now())

    row.refresh_from_db()
    assert outcomes == ["retry"] * (delivery.MAX_ATTEMPTS - 1) + ["failed"]
    assert (row.status, row.last_error) == (Status.FAILED, "KeyError")


def test_no_address_is_a_failure_with_its_reason_not_a_retry(world, nora, inbox):
    row = _planned(world, Kind.APPOINTMENT)
    nora.email = ""
    nora.save()

    assert delivery.deliver(row.pk) == Status.FAILED

    row.refresh_from_db()
    assert (row.status, row.last_error, row.next_try_at) == (
        Status.FAILED,
        "no e-mail address",
        None,
    )


def test_an_opt_out_after_planning_is_honoured_when_sending(world, nora, inbox):
    row = _planned(world, Kind.APPOINTMENT)
    nora.email_reminders = False
    nora.save()

    assert delivery.deliver(row.pk) == Status.OPTED_OUT

    assert inbox.messages == []
    assert Reminder.objects.get(pk=row.pk).status == Status.OPTED_OUT


def test_a_cancelled_appointment_is_not_reminded(world, nora, inbox):
    row = _planned(world, Kind.APPOINTMENT)
    Appointment.objects.filter(pk=row.appointment_id).update(status=Appointment.Status.CANCELLED)

    assert delivery.deliver(row.pk) == Status.CANCELLED

    assert inbox.messages == []


def test_a_reminder_moved_later_is_not_sent_early(world, nora, inbox):
    row = _planned(world, Kind.APPOINTMENT)
    later = timezone.now() + timedelta(days=2)
    Reminder.objects.filter(pk=row.pk).update(due_at=later, next_try_at=later)

    assert delivery.deliver(row.pk) == "not_due"

    assert inbox.messages == []
    assert Reminder.objects.get(pk=row.pk).status == Status.PENDING


def test_an_appointment_reminder_carries_a_link_that_confirms_it(world, nora, inbox, client):
    import re

    from dermis.web.clinic.models import AppointmentReply

    row = _planned(world, Kind.APPOINTMENT)
    delivery.deliver(row.pk)

    body = inbox.messages[0].get_body(("plain",)).get_content()
    (path,) = re.findall(r"http://127\.0\.0\.1:8000(/reply/\S+/)", body)
    assert client.post(path, {"answer": "confirmed"}).status_code == 200
    reply = AppointmentReply.objects.get()
    assert (reply.appointment, reply.answer) == (row.appointment, "confirmed")
