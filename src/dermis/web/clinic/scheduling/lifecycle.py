"""An appointment's life: booked -> confirmed -> arrived -> in treatment -> completed, or
cancelled or not attended. `change_status` is the one place a status changes.

Forward steps may be skipped (a patient who never confirmed still arrives); one step back undoes a
slip (arrived by mistake, a no-show who turns up). Who may set each status:

- front desk: confirmed, arrived, no-show, cancelled (and back to booked or confirmed);
- practitioner: all of those, and in treatment, completed;
- admin: all;
- a patient (portal): cancelled, their own appointment only, and not inside the notice period.

A cancellation records its reason, who cancelled and when; it is late when it comes inside the
clinic's notice period (`Clinic.cancel_notice_hours`, 24 hours unless the clinic sets another).
`inside_notice` is that rule, for every door: a staff cancellation inside it is late; a patient
may neither cancel nor move online inside it (`call_the_clinic` says what to do instead).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from dermis.web.clinic import clock, recall_sync
from dermis.web.clinic.actors import ANY_STAFF, CLINICAL, PATIENT, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.errors import ServiceError, conflict, forbidden
from dermis.web.clinic.models import Appointment
from dermis.web.clinic.reminders import services as reminders
from dermis.web.clinic.scheduling import booking
from dermis.web.clinic.waitlist.hooks import slot_freed

S = Appointment.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.BOOKED: frozenset(
        {S.CONFIRMED, S.ARRIVED, S.IN_TREATMENT, S.COMPLETED, S.CANCELLED, S.NO_SHOW}
    ),
    S.CONFIRMED: frozenset(
        {S.BOOKED, S.ARRIVED, S.IN_TREATMENT, S.COMPLETED, S.CANCELLED, S.NO_SHOW}
    ),
    S.ARRIVED: frozenset({S.CONFIRMED, S.IN_TREATMENT, S.COMPLETED}),
    S.IN_TREATMENT: frozenset({S.ARRIVED, S.COMPLETED}),
    S.COMPLETED: frozenset({S.IN_TREATMENT}),
    S.NO_SHOW: frozenset({S.BOOKED}),
    S.CANCELLED: frozenset(),
}

# Who may set each status.
SETTERS: dict[str, tuple[str, ...]] = {
    S.BOOKED: ANY_STAFF,
    S.CONFIRMED: ANY_STAFF,
    S.ARRIVED: ANY_STAFF,
    S.NO_SHOW: ANY_STAFF,
    S.CANCELLED: (*ANY_STAFF, PATIENT),  # a patient, their own, through the portal
    S.IN_TREATMENT: CLINICAL,
    S.COMPLETED: CLINICAL,
}

ON_THE_DAY = frozenset({S.ARRIVED, S.IN_TREATMENT})  # not before the appointment's day
AFTER_START = frozenset({S.COMPLETED, S.NO_SHOW})  # not before it starts

LABELS = {
    S.CONFIRMED: "Confirm",
    S.ARRIVED: "Check in",
    S.IN_TREATMENT: "Start treatment",
    S.COMPLETED: "Complete",
    S.NO_SHOW: "No-show",
    S.BOOKED: "Back to booked",
}


def label(status: str) -> str:
    return Appointment.Status(status).label.lower()


def next_steps(role: str, appointment: Appointment, now: datetime | None = None) -> list[str]:
    """The statuses this role may move the appointment to now (cancelling has its own page)."""
    now = now or clock.now()
    out = []
    for status in TRANSITIONS[appointment.status]:
        if status == S.CANCELLED or role not in SETTERS[status]:
            continue
        if _too_early(appointment, status, now) is None:
            out.append(status)
    order = list(S.values)
    return sorted(out, key=order.index)


def needs_outcome(appointment: Appointment, now: datetime | None = None) -> bool:
    """Over and still open: the front desk must say what happened (arrived or no-show)."""
    return appointment.status in (S.BOOKED, S.CONFIRMED) and appointment.end <= (now or clock.now())


def notice(clinic) -> timedelta:
    """The clinic's notice period."""
    return timedelta(hours=clinic.cancel_notice_hours)


def inside_notice(appointment: Appointment, now: datetime) -> bool:
    """Whether `appointment` starts within the clinic's notice period from `now`."""
    return appointment.start - now < notice(appointment.clinic)


def call_the_clinic(clinic) -> str:
    """What a patient is told inside the notice period, in plain words."""
    phone = f" on {clinic.phone}" if clinic.phone else ""
    return (
        f"It is less than {clinic.cancel_notice_hours} hours before this appointment: "
        f"please call {clinic.name}{phone}."
    )


def _too_early(appointment: Appointment, status: str, now: datetime) -> str | None:
    if status in AFTER_START and appointment.start > now:
        return f"an appointment that has not started yet cannot be marked {label(status)}"
    if (
        status in ON_THE_DAY
        and timezone.localtime(appointment.start).date() > timezone.localtime(now).date()
    ):
        return f"an appointment cannot be marked {label(status)} before its day"
    return None


def follow_charting(actor: Actor, appointment: Appointment | None, status: str) -> None:
    """Charting moves its appointment along: starting a chart sets it in treatment, finalising
    completes it. Only a step the lifecycle allows now; otherwise the status stays (a chart
    written up later for an appointment already completed, say). Inside the caller's
    transaction."""
    if appointment is None:
        return
    appointment.refresh_from_db()
    if status not in TRANSITIONS[appointment.status] or actor.role not in SETTERS[status]:
        return
    if _too_early(appointment, status, clock.now()) is None:
        change_status(actor, appointment, status)


def change_status(
    actor: Actor,
    appointment: Appointment,
    status: str,
    *,
    reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Move `appointment` to `status` if the lifecycle and the actor's role allow it; audited."""
    actor.require((*ANY_STAFF, PATIENT), "changing an appointment's status")
    actor.own(appointment, "appointment")
    actor.require_self(appointment.patient)
    if status not in S.values:
        raise ServiceError("status", f"must be one of {', '.join(S.values)}")
    now = now or clock.now()
    appointment.refresh_from_db(fields=["status"])
    if actor.role not in SETTERS[status]:
        raise forbidden(f"your role does not allow marking an appointment {label(status)}")
    if status == appointment.status and status != S.CANCELLED:
        return appointment  # cancelling twice is refused: the first reason stands
    if status not in TRANSITIONS[appointment.status]:
        raise conflict(
            "status", f"a {label(appointment.status)} appointment cannot become {label(status)}"
        )
    if why := _too_early(appointment, status, now):
        raise ServiceError("status", why)
    if actor.is_patient and inside_notice(appointment, now):
        raise ServiceError("status", call_the_clinic(appointment.clinic))
    reason = reason.strip()
    if status == S.CANCELLED and not reason:
        raise ServiceError("reason", "give a reason for cancelling")
    fields: dict = {"status": status}
    if status == S.CANCELLED:
        fields.update(
            cancel_reason=reason[:200],
            cancelled_by=actor.user,
            cancelled_at=now,
            late_cancel=inside_notice(appointment, now),
        )
    summary = f"status: {appointment.status} -> {status}"
    with transaction.atomic():
        try:
            with transaction.atomic():
                # Only from the status read: a change made meanwhile by someone else wins.
                changed = Appointment.objects.filter(
                    pk=appointment.pk, status=appointment.status
                ).update(**fields)
        except (IntegrityError, OperationalError) as exc:
            if booking.is_overlap(exc):  # a no-show put back onto a slot booked since
                raise conflict("status", "the slot is taken", code="slot-taken") from None
            raise
        if not changed:
            appointment.refresh_from_db()
            raise conflict("status", f"the appointment is now {label(appointment.status)}")
        if status in (S.CANCELLED, S.NO_SHOW):
            reminders.cancel_for_appointment(appointment)
        appointment.refresh_from_db()
        if status == S.CANCELLED:
            summary += " (late)" if appointment.late_cancel else ""
        record(actor, Action.UPDATE, appointment, summary=summary)
        recall_sync.changed(appointment.patient)
        if status == S.CANCELLED:
            slot_freed(appointment)  # offered to the waitlist once this commits
    return appointment
