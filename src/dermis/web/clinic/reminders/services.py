"""Reminders: plan outbox rows for appointments and recalls, render them, deliver each exactly once.

Planning writes `Reminder` rows with a deterministic `key` (appointment or patient, kind, channel),
so planning twice changes nothing, and a moved appointment updates the due times of its pending
rows. A row that will not be sent says why (opted out, cancelled). Each new or re-timed pending
row gets a `deliver_reminder` task when the surrounding transaction commits.

Delivery (`deliver`) runs in one database transaction: it locks the row, sends, and marks the row
sent; the commit happens only after the mail server (or SMS provider) has accepted the message.
- A crash before the server accepts rolls the transaction back: the row stays pending and the
  worker's sweep queues it again (`reminder_worker`), so it is not lost.
- A crash after the commit cannot resend: the row says sent, and `deliver` returns early.
- The window between acceptance and commit (milliseconds) can still duplicate a message if the
  process dies exactly then. The Message-ID is derived from the key (and the installation's
  secret), so it is the same on a resend and a receiving system can drop the duplicate.
On SQLite the transaction holds the database's write lock while talking to the server, so the
SMTP timeout is capped below SQLite's busy timeout (other writers wait, rather than fail).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.crypto import salted_hmac
from pydantic import ValidationError

from dermis.core import patient as cp
from dermis.core.aftercare import aftercare, precare
from dermis.core.errors import InputError
from dermis.core.planning import Plan
from dermis.web.clinic.core_inputs import (
    active_plan,
    core_intake,
    core_patient,
    core_session,
    knowledge,
    latest_consultation,
)
from dermis.web.clinic.models import (
    ATTENDED_STATUSES,
    OPEN_STATUSES,
    Appointment,
    Patient,
    Reminder,
    TreatmentSession,
)
from dermis.web.clinic.reminders.sms import SMSError, get_sms_backend
from dermis.web.clinic.scheduling import ical

log = logging.getLogger(__name__)

Kind, Channel, Status = Reminder.Kind, Reminder.Channel, Reminder.Status

# Messaging policy from the issue (not clinical rules): when each message goes out.
APPOINTMENT_LEAD = timedelta(hours=48)
MIN_PRECARE_LEAD_DAYS = 2
CHECK_IN_DAYS = {Kind.AFTERCARE_DAY1: 1, Kind.AFTERCARE_DAY3: 3}
SEND_TIME = time(10, 0)  # check-ins, pre-care and recalls: mid-morning, clinic time
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=5)  # doubled after each failed attempt
STALE_CLAIM = timedelta(minutes=10)
SQLITE_SMTP_TIMEOUT = 10  # seconds; below the 20 s SQLite busy timeout in settings
# Rows planning may still change; sent and failed rows are history.
REPLANNABLE = (Status.PENDING, Status.CANCELLED, Status.OPTED_OUT)
CONFIRM = "confirm:"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    attachments: tuple[tuple[str, bytes, str], ...] = ()


def at_clinic_time(day: date, at: time = SEND_TIME) -> datetime:
    return timezone.make_aware(datetime.combine(day, at), timezone.get_default_timezone())


def message_id(key: str) -> str:
    """The Message-ID of the reminder with this key: the same every time it is (re)sent."""
    digest = salted_hmac("dermis.reminders.message-id", key).hexdigest()[:40]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "dermis"
    return f"<reminder-{digest}@{domain}>"


def _channels(patient: Patient) -> list[tuple[str, bool]]:
    """(channel, patient accepts it) for each channel the patient can be reached on."""
    out = []
    if patient.email:
        out.append((Channel.EMAIL, patient.email_reminders))
    if patient.phone:
        out.append((Channel.SMS, patient.sms_reminders))
    return out


def _enqueue(reminder: Reminder, run_after: datetime | None = None) -> None:
    from dermis.web.clinic.reminders.tasks import deliver_reminder  # tasks imports this module

    pk, when = reminder.pk, run_after or reminder.due_at
    # robust: a queue hiccup must not fail the booking; the worker's sweep queues it later.
    transaction.on_commit(lambda: deliver_reminder.using(run_after=when).enqueue(pk), robust=True)


def _upsert(key: str, defaults: dict, status: str, *, retime: bool = True) -> Reminder:
    """Create the row, or bring a not-yet-sent one up to date; queue it if it is (newly) due."""
    row, created = Reminder.objects.select_for_update().get_or_create(
        key=key, defaults={**defaults, "status": status}
    )
    changed = created
    replan = not created and retime and row.status in REPLANNABLE
    if replan and (row.status, row.due_at) != (status, defaults["due_at"]):
        if row.status != Status.PENDING:
            row.attempts, row.last_error = 0, ""
        row.status, row.due_at, changed = status, defaults["due_at"], True
        row.save(update_fields=["status", "due_at", "attempts", "last_error"])
    if changed and row.status == Status.PENDING:
        _enqueue(row)
    return row


# --- Planning ----------------------------------------------------------------------------------


def _modalities(appointment: Appointment) -> set[str]:
    kb = knowledge()
    device = appointment.equipment.device if appointment.equipment else ""
    if device in kb.devices:
        return {kb.devices[device].modality}
    plan = appointment.plan or active_plan(appointment.patient)
    courses = Plan.from_dict(plan.content).courses if plan else ()
    return {c.modality for c in courses if c.modality in kb.modalities}


def precare_items(appointment: Appointment) -> tuple:
    """The core's pre-care items for a treatment appointment (empty when it cannot tell)."""
    modalities = _modalities(appointment)
    if appointment.kind != Appointment.Kind.TREATMENT or not modalities:
        return ()
    patient = appointment.patient
    try:
        who = core_patient(patient, timezone.localtime(appointment.start).date())
        intake = core_intake(latest_consultation(patient))
    except (InputError, ValidationError):
        log.info("appointment %s: no pre-care (phototype or intake missing)", appointment.pk)
        return ()
    kb, items = knowledge(), {}
    for modality in sorted(modalities):
        session = cp.Session(start=appointment.start, modality=modality)
        for item in precare(session, who, intake, kb):
            items.setdefault(item.rule, item)
    return tuple(sorted(items.values(), key=lambda p: (-p.days_before, p.rule)))


def _precare_due(appointment: Appointment, items: tuple, now: datetime) -> datetime | None:
    """At the earliest lead time still ahead (the longest first), never under two days."""
    day = timezone.localtime(appointment.start).date()
    leads = sorted({max(i.days_before, MIN_PRECARE_LEAD_DAYS) for i in items}, reverse=True)
    return next(
        (d for lead in leads if (d := at_clinic_time(day - timedelta(days=lead))) > now), None
    )


def _schedule(appointment: Appointment, now: datetime) -> dict[str, datetime]:
    due = {Kind.APPOINTMENT: appointment.start - APPOINTMENT_LEAD}
    if appointment.kind == Appointment.Kind.TREATMENT:
        if (items := precare_items(appointment)) and (
            when := _precare_due(appointment, items, now)
        ):
            due[Kind.PRECARE] = when
        day = timezone.localtime(appointment.start).date()
        for kind, days in CHECK_IN_DAYS.items():
            due[kind] = at_clinic_time(day + timedelta(days=days))
    return {kind: when for kind, when in due.items() if when > now}


def plan_for_appointment(appointment: Appointment) -> list[Reminder]:
    """Plan (or re-plan after a move) the appointment's reminders; idempotent.

    Pending rows whose time has passed or that no longer apply are cancelled; rows already sent
    stay as they are. A cancelled or no-show appointment has its pending rows cancelled.
    """
    now, patient = timezone.now(), appointment.patient
    wanted: dict[str, tuple[dict, str]] = {}
    if appointment.status in OPEN_STATUSES:
        for kind, due_at in _schedule(appointment, now).items():
            for channel, accepted in _channels(patient):
                key = f"appt:{appointment.pk}:{kind}:{channel}"
                fields = {"patient": patient, "appointment": appointment, "kind": kind}
                fields.update(channel=channel, due_at=due_at)
                wanted[key] = (fields, Status.PENDING if accepted else Status.OPTED_OUT)
    with transaction.atomic():
        rows = [_upsert(key, fields, status) for key, (fields, status) in wanted.items()]
        stale = Reminder.objects.filter(appointment=appointment, status=Status.PENDING)
        stale.exclude(key__in=list(wanted)).exclude(key__startswith=CONFIRM).update(
            status=Status.CANCELLED
        )
    return sorted(rows, key=lambda r: (r.due_at, r.key))


def cancel_for_appointment(appointment: Appointment) -> int:
    """Cancel the appointment's pending reminders (it was cancelled). Returns how many.

    A booking confirmation is left alone: it may cover the rest of a series, and `deliver`
    cancels it when none of its appointments is still booked.
    """
    pending = Reminder.objects.filter(appointment=appointment, status=Status.PENDING)
    return pending.exclude(key__startswith=CONFIRM).update(status=Status.CANCELLED)


def plan_recall(patient: Patient, due_date: date) -> list[Reminder]:
    """A maintenance recall on `due_date` (10:00 clinic time), once per channel; idempotent."""
    due_at = at_clinic_time(due_date)
    if due_at <= timezone.now():
        return []
    with transaction.atomic():
        return [
            _upsert(
                f"recall:{patient.pk}:{due_date.isoformat()}:{channel}",
                {"patient": patient, "kind": Kind.RECALL, "channel": channel, "due_at": due_at},
                Status.PENDING if accepted else Status.OPTED_OUT,
            )
            for channel, accepted in _channels(patient)
        ]


def send_booking_confirmation(appointments: Iterable[Appointment]) -> list[Reminder]:
    """Queue one confirmation e-mail (with an .ics) per booked series or single appointment."""
    groups: dict[str, Appointment] = {}
    for a in sorted(appointments, key=lambda a: a.start):
        groups.setdefault(f"series:{a.series_key}" if a.series_key else f"appt:{a.pk}", a)
    rows = []
    with transaction.atomic():
        for group, first in groups.items():
            patient = first.patient
            if not patient.email:
                continue
            fields = {"patient": patient, "appointment": first, "kind": Kind.APPOINTMENT}
            fields.update(channel=Channel.EMAIL, due_at=timezone.now())
            status = Status.PENDING if patient.email_reminders else Status.OPTED_OUT
            rows.append(_upsert(f"{CONFIRM}{group}:email", fields, status, retime=False))
    return rows


# --- Rendering ---------------------------------------------------------------------------------


def _template(reminder: Reminder) -> str:
    return "confirmation" if reminder.key.startswith(CONFIRM) else reminder.kind


def confirmed_appointments(reminder: Reminder) -> list[Appointment]:
    """What a booking confirmation covers now: its series (or appointment), still booked."""
    first = reminder.appointment
    if first is None:
        return []
    qs = Appointment.objects.select_related("clinic", "location", "practitioner", "patient")
    if reminder.key.startswith(f"{CONFIRM}series:") and first.series_key:
        qs = qs.filter(series_key=first.series_key)
    else:
        qs = qs.filter(pk=first.pk)
    return list(qs.filter(status__in=OPEN_STATUSES).order_by("start"))


def _check_in(appointment: Appointment, day_number: int) -> dict:
    """The core's aftercare for that day of the charted session, or {} (a generic message)."""
    session = TreatmentSession.objects.filter(appointment=appointment).first()
    if session is None:
        return {}
    try:
        who = core_patient(appointment.patient, timezone.localtime(session.performed_at).date())
        intake = core_intake(latest_consultation(appointment.patient))
        schedule = aftercare(core_session(session), who, intake, knowledge())
    except (InputError, ValidationError):
        return {}
    day = next((d for d in schedule.days if d.number == day_number), None)
    return {
        "entries": day.entries if day else (),
        "warnings": [i.text for i in schedule.warnings()],
    }


def _subject(name: str, reminder: Reminder) -> str:
    clinic = reminder.patient.clinic.name
    appt = reminder.appointment
    when = dateformat.format(timezone.localtime(appt.start), "l j F") if appt else ""
    return {
        "confirmation": f"Your booking at {clinic}",
        Kind.APPOINTMENT: f"Reminder: your appointment at {clinic} on {when}",
        Kind.PRECARE: f"Before your appointment on {when}: what to stop and when",
        Kind.AFTERCARE_DAY1: f"{clinic}: how is your skin today?",
        Kind.AFTERCARE_DAY3: f"{clinic}: checking in, three days on",
        Kind.RECALL: f"{clinic}: time to book your maintenance session",
    }[name]


def render(reminder: Reminder) -> Message | None:
    """The message as it should read now (times as booked now); None if nothing is left to say."""
    name, appt = _template(reminder), reminder.appointment
    ctx = {"reminder": reminder, "patient": reminder.patient, "clinic": reminder.patient.clinic}
    attachments: tuple = ()
    if appt is not None:
        ctx.update(appointment=appt, place=ical.place(appt))
    if name == "confirmation":
        booked = confirmed_appointments(reminder)
        if not booked:
            return None
        ctx["appointments"] = booked
        cal = ical.calendar(booked, ical.Audience.PATIENT, reminder.patient.clinic.name)
        attachments = (("appointment.ics", ical.to_bytes(cal), "text/calendar"),)
    elif name == Kind.PRECARE and appt is not None:
        today = timezone.localdate()
        items = precare_items(appt)
        ctx["precare"] = [{"item": i, "now": i.from_date <= today} for i in items]
    elif name in CHECK_IN_DAYS and appt is not None:
        ctx.update(day=CHECK_IN_DAYS[name], check_in=_check_in(appt, CHECK_IN_DAYS[name]))
    if reminder.channel == Channel.SMS:
        return Message("", render_to_string(f"clinic/email/sms/{name}.txt", ctx).strip())
    body = render_to_string(f"clinic/email/{name}.txt", ctx)
    return Message(_subject(name, reminder), body, attachments)


# --- Delivery ----------------------------------------------------------------------------------


def next_attempt_at(reminder: Reminder) -> datetime:
    """When the reminder may be tried (again): its due time, or later after failed attempts."""
    if not reminder.attempts or reminder.claimed_at is None:
        return reminder.due_at
    return max(reminder.due_at, reminder.claimed_at + RETRY_AFTER * 2 ** (reminder.attempts - 1))


def _deliverable(row: Reminder, now: datetime) -> bool:
    if row.status == Status.PENDING:
        return True
    stale = row.claimed_at is None or row.claimed_at < now - STALE_CLAIM
    return row.status == Status.SENDING and stale


def _instead(row: Reminder) -> tuple[str, str] | None:
    """(status, reason) when the row must not be sent now; None to send it."""
    patient, appt = row.patient, row.appointment
    email = row.channel == Channel.EMAIL
    if not (patient.email_reminders if email else patient.sms_reminders):
        return Status.OPTED_OUT, ""
    if appt is not None and not row.key.startswith(CONFIRM):
        # Check-ins still go after the visit (booked or done); the rest only before it.
        ok = (*OPEN_STATUSES, *ATTENDED_STATUSES)
        if appt.status not in (ok if row.kind in CHECK_IN_DAYS else OPEN_STATUSES):
            return Status.CANCELLED, ""
    if not (patient.email if email else patient.phone):
        return Status.FAILED, "no e-mail address" if email else "no phone number"
    return None


def _describe(exc: Exception) -> str:
    # The class and SMTP codes only: a server's text can quote the recipient's address.
    import smtplib

    codes: list[str] = []
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in exc.recipients.values()})
    elif isinstance(exc, smtplib.SMTPResponseException):
        codes = [str(exc.smtp_code)]
    return " ".join([type(exc).__name__, *codes])[:300]


def _send(row: Reminder, message: Message) -> str:
    """Hand the message over; returns its id. Raises OSError/SMSError when it was not accepted."""
    mid = message_id(row.key)
    if row.channel == Channel.SMS:
        reference = mid.strip("<>").partition("@")[0]
        return f"sms:{get_sms_backend().send(row.patient.phone, message.body, reference=reference)}"
    timeout = settings.EMAIL_TIMEOUT
    if connection.vendor == "sqlite":
        timeout = min(timeout or SQLITE_SMTP_TIMEOUT, SQLITE_SMTP_TIMEOUT)
    email = EmailMessage(
        message.subject,
        message.body,
        settings.DEFAULT_FROM_EMAIL,
        [row.patient.email],
        headers={"Message-ID": mid},
        connection=get_connection(timeout=timeout),
    )
    for name, content, mimetype in message.attachments:
        email.attach(name, content, mimetype)
    if email.send() != 1:
        raise OSError("the mail backend accepted no message")
    return mid


def deliver(reminder_id: int) -> str:
    """Send one reminder if it is still due to go; at most once (see the module docstring).

    Returns what happened, for the task result: "sent", "retry", "not_due", "missing" or the
    status the row ended in (cancelled, opted_out, failed, or sent by an earlier run).
    """
    now = timezone.now()
    with transaction.atomic():
        # Locks the row on PostgreSQL; on SQLite the write transaction (IMMEDIATE) is exclusive.
        row = Reminder.objects.select_for_update().filter(pk=reminder_id).first()
        if row is None:
            return "missing"
        if not _deliverable(row, now):
            return str(row.status)
        if row.due_at > now:
            return "not_due"  # re-planned later; the task for the new time will send it
        instead = _instead(row)
        message = None if instead else render(row)
        if instead or message is None:
            row.status, row.last_error = instead or (Status.CANCELLED, "")
            row.save(update_fields=["status", "last_error"])
            log.info("reminder %s not sent: %s", row.pk, row.status)
            return str(row.status)
        try:
            sent_id = _send(row, message)
        except (OSError, SMSError) as exc:
            return _failed_attempt(row, exc, now)
        row.status, row.message_id, row.sent_at = Status.SENT, sent_id[:200], timezone.now()
        row.save(update_fields=["status", "message_id", "sent_at"])
    log.info("reminder %s sent", reminder_id)
    return "sent"


def _failed_attempt(row: Reminder, exc: Exception, now: datetime) -> str:
    row.attempts += 1
    row.claimed_at, row.last_error = now, _describe(exc)
    if row.attempts >= MAX_ATTEMPTS:
        row.status = Status.FAILED
    else:
        _enqueue(row, next_attempt_at(row))
    row.save(update_fields=["attempts", "claimed_at", "last_error", "status"])
    log.warning("reminder %s: attempt %s not accepted (%s)", row.pk, row.attempts, row.last_error)
    return "failed" if row.status == Status.FAILED else "retry"
