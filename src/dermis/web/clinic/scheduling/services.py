"""Booking, moving, cancelling and marking appointments: the only writers of `Appointment` rows.

Every service takes an actor, checks permission, applies the booking rules (rules.py), asks the
safety gate for treatments (safety.py), writes, and audits in the same transaction. The database
referees double-booking (booking.py raises SlotTaken, answered here as a 409 ServiceError).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from dermis.core import gate
from dermis.core.planning import Plan
from dermis.web.clinic import clock, recall_sync, safety
from dermis.web.clinic.actors import ANY_STAFF, CLINICAL, PATIENT, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.core_inputs import active_plan, knowledge
from dermis.web.clinic.errors import ServiceError, conflict, forbidden
from dermis.web.clinic.models import (
    Appointment,
    Equipment,
    Location,
    Patient,
    Room,
    StaffMember,
    TreatmentPlan,
)
from dermis.web.clinic.models.scheduling import OPEN_STATUSES
from dermis.web.clinic.reminders import services as reminders
from dermis.web.clinic.scheduling import booking, lifecycle, rules

TREATMENT_KINDS = safety.TREATMENT_KINDS


def slot_taken(exc: booking.SlotTaken) -> ServiceError:
    return conflict("start", str(exc), code="slot-taken")


def _mine(actor: Actor, obj, field: str):
    if obj is not None and obj.clinic_id != actor.clinic.pk:
        raise ServiceError(field, "is not one of this clinic's")
    return obj


def _course_areas(plan: TreatmentPlan | None, modality: str) -> tuple[str, ...]:
    if plan is None:
        return ()
    course = next((c for c in Plan.from_dict(plan.content).courses if c.modality == modality), None)
    return course.areas if course else ()


def check_treatment(
    actor: Actor,
    patient: Patient,
    start: datetime,
    *,
    modality: str = "",
    plan: TreatmentPlan | None = None,
    notice_from=None,
    precare_done: bool = False,
    override_reason: str = "",
) -> tuple[str, bool, str]:
    """Ask the gate about a treatment on `start`'s day: (modality, provisional, flag).

    The modality is the one named, else the plan's when it has one course. When it is not known,
    every modality is asked: the booking is refused if none is safe, and kept provisional with a
    note of those that are not."""
    plan = plan or active_plan(patient)
    planned = safety.modalities_of(patient, "") if plan else ()
    if modality and modality not in knowledge().modalities:
        known = ", ".join(knowledge().modalities)
        raise ServiceError("modality", f"unknown modality '{modality}' (known: {known})")
    if modality and planned and modality not in planned:
        raise ServiceError("modality", f"the accepted plan has no {modality} course")
    candidates = (modality,) if modality else (planned or tuple(knowledge().modalities))
    day = timezone.localtime(start).date()
    refused: list[ServiceError] = []
    allowed: list[gate.Verdict] = []
    for m in candidates:
        act = gate.Act(gate.ActKind.BOOK, m, day, _course_areas(plan, m))
        try:
            allowed.append(
                safety.check(
                    actor,
                    patient,
                    act,
                    notice_from=notice_from,
                    precare_done=precare_done,
                    override_reason=override_reason,
                )
            )
        except ServiceError as err:
            refused.append(err)
    if not allowed:
        raise refused[0]
    chosen = modality or (candidates[0] if len(candidates) == 1 else "")
    flag = "; ".join(err.message for err in refused)[:300]
    provisional = plan is None or any(v.provisional for v in allowed)
    return chosen, provisional, flag


def book_appointment(
    actor: Actor,
    patient: Patient,
    *,
    practitioner: StaffMember,
    start: datetime,
    end: datetime,
    kind: str = Appointment.Kind.TREATMENT,
    location: Location | None = None,
    room: Room | None = None,
    equipment: Equipment | None = None,
    plan: TreatmentPlan | None = None,
    modality: str = "",
    notes: str = "",
    precare_done: bool = False,
    override_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Book one appointment: the rules, the gate for a treatment, then the database's referee.
    A patient (portal) books for themselves only, with no notes, pre-care or override."""
    actor.require((*ANY_STAFF, PATIENT), "booking")
    actor.own(patient, "patient")
    actor.require_self(patient)
    if actor.is_patient and (notes or precare_done or override_reason):
        raise forbidden("a patient books without notes, pre-care or overrides")
    if practitioner.clinic_id != actor.clinic.pk or not practitioner.is_clinical:
        raise ServiceError("practitioner", "is not a practitioner of this clinic")
    for obj, field in ((location, "location"), (room, "room"), (equipment, "equipment")):
        _mine(actor, obj, field)
    if plan is not None and plan.patient_id != patient.pk:
        raise ServiceError("plan", "is not one of this patient's plans")
    if kind not in Appointment.Kind.values:
        raise ServiceError("kind", f"must be one of {', '.join(Appointment.Kind.values)}")
    if precare_done and not actor.is_clinical:
        raise ServiceError("precare_done", "only a practitioner may record pre-care", status=403)
    rules.check_booking(
        practitioner, start, end, location or (room.location if room else None), now
    )
    with transaction.atomic():
        fields = {}
        if kind in TREATMENT_KINDS:
            chosen, provisional, flag = check_treatment(
                actor,
                patient,
                start,
                modality=modality,
                plan=plan,
                precare_done=precare_done,
                override_reason=override_reason,
            )
            fields = {
                "modality": chosen,
                "provisional": provisional,
                "safety_flag": flag,
                "precare_confirmed": precare_done,
            }
        try:
            made = booking.book(
                patient,
                booking.Booking(start, end, practitioner, room, equipment, location),
                kind=kind,
                plan=plan,
                notes=notes,
                remind=True,
                fields=fields,
            )
        except booking.SlotTaken as exc:
            raise slot_taken(exc) from None
        record(actor, Action.CREATE, made, summary=f"appointment ({made.kind})")
        recall_sync.changed(made.patient)
    return made


def move_appointment(
    actor: Actor,
    appointment: Appointment,
    *,
    start: datetime,
    end: datetime | None = None,
    precare_done: bool = False,
    override_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Move one appointment (its length kept unless `end` is given), with the same rules and gate
    as a booking. A series is moved with the interval checks of `reschedule` instead."""
    actor.require(ANY_STAFF, "moving appointments")
    actor.own(appointment, "appointment")
    if appointment.status not in OPEN_STATUSES:
        raise conflict(
            "status", f"a {appointment.get_status_display().lower()} appointment cannot move"
        )
    end = end or start + (appointment.end - appointment.start)
    rules.check_booking(appointment.practitioner, start, end, appointment.location, now)
    with transaction.atomic():
        if appointment.kind in TREATMENT_KINDS:
            check_treatment(
                actor,
                appointment.patient,
                start,
                modality=appointment.modality,
                plan=appointment.plan,
                precare_done=precare_done or appointment.precare_confirmed,
                override_reason=override_reason,
            )
        try:
            booking.move(appointment, start, end, remind=True)
        except booking.SlotTaken as exc:
            raise slot_taken(exc) from None
        record(actor, Action.UPDATE, appointment, summary="appointment moved")
        recall_sync.changed(appointment.patient)
    return appointment


def cancel_appointment(
    actor: Actor, appointment: Appointment, reason: str = "", now: datetime | None = None
) -> Appointment:
    """Cancel a booked or confirmed appointment and its pending reminders (a reason is needed;
    late when inside the clinic's notice period). A patient may cancel their own, outside the
    notice period. The freed slot is offered to the waitlist."""
    return lifecycle.change_status(
        actor, appointment, Appointment.Status.CANCELLED, reason=reason, now=now
    )


def set_status(
    actor: Actor,
    appointment: Appointment,
    status: str,
    now: datetime | None = None,
    *,
    reason: str = "",
) -> Appointment:
    """Move an appointment along its lifecycle (see lifecycle.py for the steps and who may take
    each)."""
    return lifecycle.change_status(actor, appointment, status, reason=reason, now=now)


def require_clinical_for_precare(actor: Actor, precare_done: bool) -> None:
    if precare_done:
        actor.require(CLINICAL, "recording pre-care")


def record_appointment(
    actor: Actor,
    patient: Patient,
    *,
    practitioner: StaffMember,
    start: datetime,
    end: datetime,
    kind: str,
    status: str = Appointment.Status.BOOKED,
    notes: str = "",
    now: datetime | None = None,
) -> Appointment:
    """An appointment from another system (an import). One still to come and booked is booked
    like any other (rules, safety gate, reminders); a past or closed one is kept as history."""
    now = now or clock.now()
    if status == Appointment.Status.BOOKED and start >= now:
        return book_appointment(
            actor, patient, practitioner=practitioner, start=start, end=end, kind=kind,
            notes=notes, now=now,
        )  # fmt: skip
    actor.require(ANY_STAFF, "recording appointments")
    actor.own(patient, "patient")
    if practitioner.clinic_id != actor.clinic.pk:
        raise ServiceError("practitioner", "is not a practitioner of this clinic")
    rules.check_length(start, end)
    if status not in Appointment.Status.values:
        raise ServiceError("status", f"must be one of {', '.join(Appointment.Status.values)}")
    with transaction.atomic():
        if status == Appointment.Status.CANCELLED:
            # A cancelled appointment holds no slot: history to keep, not a booking.
            made = Appointment.objects.create(
                clinic=patient.clinic, patient=patient, practitioner=practitioner, start=start,
                end=end, kind=kind, status=status, notes=notes,
            )  # fmt: skip
        else:
            try:
                made = booking.book(
                    patient,
                    booking.Booking(start, end, practitioner),
                    kind=kind,
                    notes=notes,
                    fields={"status": status},
                )
            except booking.SlotTaken as exc:
                raise slot_taken(exc) from None
        record(actor, Action.CREATE, made, summary=f"appointment recorded ({status})")
        recall_sync.changed(made.patient)
    return made


def update_recorded_appointment(actor: Actor, appointment: Appointment, **fields) -> Appointment:
    """Bring an imported appointment in line with its source: a new time moves it (rules and
    gate when it is still to come), a new status marks it, other fields are copied."""
    actor.require(ANY_STAFF, "recording appointments")
    actor.own(appointment, "appointment")
    start, end = fields.pop("start", appointment.start), fields.pop("end", appointment.end)
    status = fields.pop("status", appointment.status)
    if (start, end) != (appointment.start, appointment.end):
        if start >= clock.now() and appointment.status in OPEN_STATUSES:
            move_appointment(actor, appointment, start=start, end=end)
        else:
            rules.check_length(start, end)
            with transaction.atomic():
                try:
                    booking.move(appointment, start, end)
                except booking.SlotTaken as exc:
                    raise slot_taken(exc) from None
                record(actor, Action.UPDATE, appointment, summary="appointment moved (record)")
                recall_sync.changed(appointment.patient)
    allowed = {"kind", "notes", "practitioner"}
    changed = {k: v for k, v in fields.items() if k in allowed and getattr(appointment, k) != v}
    with transaction.atomic():
        if status != appointment.status:
            try:
                with transaction.atomic():
                    Appointment.objects.filter(pk=appointment.pk).update(status=status)
            except (IntegrityError, OperationalError) as exc:
                # taking back a cancelled one onto a taken slot
                if booking.is_overlap(exc):
                    raise conflict("start", "the slot is taken", code="slot-taken") from None
                raise
            changed["status"] = status
        if changed:
            Appointment.objects.filter(pk=appointment.pk).update(
                **{k: v for k, v in changed.items() if k != "status"}
            )
            record(
                actor, Action.UPDATE, appointment, summary=f"changed {','.join(sorted(changed))}"
            )
            recall_sync.changed(appointment.patient)
        if "status" in changed:
            # As for a booking: a booked one gets its reminders, a closed one loses pending ones.
            appointment.refresh_from_db()
            reminders.plan_for_appointment(appointment)
    appointment.refresh_from_db()
    return appointment
