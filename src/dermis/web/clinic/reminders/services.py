"""Reminders: plan outbox rows for appointments, recalls and waitlist offers; staff send again.

Planning writes `Reminder` rows with a deterministic `key` (appointment or patient, kind, channel),
so planning twice changes nothing, and a moved appointment updates the due times of its pending
rows. A row that will not be sent says why (opted out, cancelled). A pending row is queued by its
`next_try_at`; the worker (`delivery.py`) claims due rows with one indexed query, sends outside
any transaction and records the result in another.
Rendering is in `render.py`, delivery in `delivery.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from pydantic import ValidationError

from dermis.core import patient as cp
from dermis.core.aftercare import precare
from dermis.core.errors import InputError
from dermis.core.planning import Plan
from dermis.web.clinic.actors import ANY_STAFF, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.core_inputs import (
    active_plan,
    core_intake,
    core_patient,
    knowledge,
    latest_consultation,
)
from dermis.web.clinic.errors import conflict
from dermis.web.clinic.models import OPEN_STATUSES, Appointment, Patient, Reminder
from dermis.web.clinic.portal.selectors import checkin_days

log = logging.getLogger(__name__)

Kind, Channel, Status = Reminder.Kind, Reminder.Channel, Reminder.Status

# Messaging policy from the issue (not clinical rules): when each message goes out.
APPOINTMENT_LEAD = timedelta(hours=48)
MIN_PRECARE_LEAD_DAYS = 2
# Check-ins go on the days the clinic chose (portal settings; days 1 and 3 unless it chose
# others). Days 1 and 3 keep kinds of their own; any other day is AFTERCARE_DAY, its day in the key.
CHECK_IN_DAYS = {Kind.AFTERCARE_DAY1: 1, Kind.AFTERCARE_DAY3: 3}
CHECK_IN_KINDS = (Kind.AFTERCARE_DAY1, Kind.AFTERCARE_DAY3, Kind.AFTERCARE_DAY)
CHECK_IN_LABEL = "aftercare_day"
SEND_TIME = time(10, 0)  # check-ins, pre-care and recalls: mid-morning, clinic time
# Rows planning may still change; sent and failed rows are history.
REPLANNABLE = (Status.PENDING, Status.CANCELLED, Status.OPTED_OUT)
CONFIRM = "confirm:"
# An appointment counts as still happening while booked or confirmed (status names compared as
# strings: "confirmed" is the lifecycle's, which may not be in the model's choices yet).
UPCOMING = OPEN_STATUSES


def at_clinic_time(day: date, at: time = SEND_TIME) -> datetime:
    return timezone.make_aware(datetime.combine(day, at), timezone.get_default_timezone())


def message_id(key: str) -> str:
    """The Message-ID of the reminder with this key: the same every time it is (re)sent."""
    digest = salted_hmac("dermis.reminders.message-id", key).hexdigest()[:40]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "dermis"
    return f"<reminder-{digest}@{domain}>"


def channels(patient: Patient) -> list[tuple[str, bool]]:
    """(channel, patient accepts it) for each channel the patient can be reached on."""
    out = []
    if patient.email:
        out.append((Channel.EMAIL, patient.email_reminders))
    if patient.phone and settings.SMS_REMINDERS:
        out.append((Channel.SMS, patient.sms_reminders))
    return out


def upsert(key: str, defaults: dict, status: str, *, retime: bool = True) -> Reminder:
    """Create the row, or bring a not-yet-sent one up to date; a pending row is queued for its
    due time (`next_try_at`)."""
    queue = defaults["due_at"] if status == Status.PENDING else None
    row, created = Reminder.objects.select_for_update().get_or_create(
        key=key, defaults={**defaults, "status": status, "next_try_at": queue}
    )
    replan = not created and retime and row.status in REPLANNABLE
    if replan and (row.status, row.due_at) != (status, defaults["due_at"]):
        if row.status != Status.PENDING:
            row.attempts, row.last_error = 0, ""
        row.status, row.due_at, row.next_try_at = status, defaults["due_at"], queue
        row.save(update_fields=["status", "due_at", "next_try_at", "attempts", "last_error"])
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


def check_in_kind(day: int) -> str:
    return next((k for k, d in CHECK_IN_DAYS.items() if d == day), Kind.AFTERCARE_DAY)


def check_in_day(reminder: Reminder) -> int:
    """The day after the session that a check-in message is for (key "appt:<pk>:<label>:<ch>",
    the label "aftercare_day<N>")."""
    if reminder.kind in CHECK_IN_DAYS:
        return CHECK_IN_DAYS[reminder.kind]
    return int(reminder.key.split(":")[2].removeprefix(CHECK_IN_LABEL))


def _schedule(appointment: Appointment, now: datetime) -> dict[str, tuple[str, datetime]]:
    """label (the kind, or "aftercare_day<N>" for a check-in) -> (kind, when it is due)."""
    due = {Kind.APPOINTMENT: (Kind.APPOINTMENT, appointment.start - APPOINTMENT_LEAD)}
    if appointment.kind == Appointment.Kind.TREATMENT:
        if (items := precare_items(appointment)) and (
            when := _precare_due(appointment, items, now)
        ):
            due[Kind.PRECARE] = (Kind.PRECARE, when)
        day = timezone.localtime(appointment.start).date()
        for days in checkin_days(appointment.clinic):
            when = at_clinic_time(day + timedelta(days=days))
            due[f"{CHECK_IN_LABEL}{days}"] = (check_in_kind(days), when)
    return {label: (kind, when) for label, (kind, when) in due.items() if when > now}


def plan_for_appointment(appointment: Appointment) -> list[Reminder]:
    """Plan (or re-plan after a move) the appointment's reminders; idempotent.

    Pending rows whose time has passed or that no longer apply are cancelled; rows already sent
    stay as they are. A cancelled or no-show appointment has its pending rows cancelled.
    """
    now, patient = timezone.now(), appointment.patient
    wanted: dict[str, tuple[dict, str]] = {}
    if appointment.status in UPCOMING:
        for label, (kind, due_at) in _schedule(appointment, now).items():
            for channel, accepted in channels(patient):
                key = f"appt:{appointment.pk}:{label}:{channel}"
                fields = {"patient": patient, "appointment": appointment, "kind": kind}
                fields.update(channel=channel, due_at=due_at)
                wanted[key] = (fields, Status.PENDING if accepted else Status.OPTED_OUT)
    with transaction.atomic():
        rows = [upsert(key, fields, status) for key, (fields, status) in wanted.items()]
        stale = Reminder.objects.filter(appointment=appointment, status=Status.PENDING)
        stale.exclude(key__in=list(wanted)).exclude(key__startswith=CONFIRM).update(
            status=Status.CANCELLED, next_try_at=None
        )
    return sorted(rows, key=lambda r: (r.due_at, r.key))


def cancel_for_appointment(appointment: Appointment) -> int:
    """Cancel the appointment's pending reminders (it was cancelled). Returns how many.

    A booking confirmation is left alone: it may cover the rest of a series, and `deliver`
    cancels it when none of its appointments is still booked.
    """
    pending = Reminder.objects.filter(appointment=appointment, status=Status.PENDING)
    return pending.exclude(key__startswith=CONFIRM).update(
        status=Status.CANCELLED, next_try_at=None
    )


def plan_recall(patient: Patient, due_date: date) -> list[Reminder]:
    """A maintenance recall on `due_date` (10:00 clinic time), once per channel; idempotent."""
    due_at = at_clinic_time(due_date)
    if due_at <= timezone.now():
        return []
    with transaction.atomic():
        return [
            upsert(
                f"recall:{patient.pk}:{due_date.isoformat()}:{channel}",
                {"patient": patient, "kind": Kind.RECALL, "channel": channel, "due_at": due_at},
                Status.PENDING if accepted else Status.OPTED_OUT,
            )
            for channel, accepted in channels(patient)
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
            rows.append(upsert(f"{CONFIRM}{group}:email", fields, status, retime=False))
    return rows


# --- Staff: send again -------------------------------------------------------------------------

RESENDABLE = (Status.FAILED, Status.PENDING)


def send_again(actor: Actor, reminder: Reminder) -> Reminder:
    """Queue a failed (or retrying) reminder to go now, with a fresh count of attempts."""
    actor.require(ANY_STAFF, "sending reminders again")
    actor.own(reminder.patient, "reminder")
    with transaction.atomic():
        row = Reminder.objects.select_for_update().get(pk=reminder.pk)
        if row.status not in RESENDABLE:
            raise conflict(
                "status", f"a reminder that is {row.get_status_display().lower()} cannot be resent"
            )
        now = timezone.now()
        row.status, row.attempts, row.next_try_at, row.claim_token = Status.PENDING, 0, now, None
        row.save(update_fields=["status", "attempts", "next_try_at", "claim_token"])
        record(actor, Action.UPDATE, row, summary=f"reminder {row.pk} queued to send again")
    return row
