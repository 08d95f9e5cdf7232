"""Working the recall list: the contact log, and "propose" then "book what the patient chose".

Any staff member may work the list (the front desk make the calls). Proposing shows free slots to
offer (the slot finder, from the day the patient is due or the first day the safety gate allows);
nothing is booked until the staff member picks one, and then through the booking service (rules,
safety gate, the database's referee), with a "booked" entry in the contact log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from dermis.core import slots
from dermis.web.clinic import clock, safety
from dermis.web.clinic.actors import ANY_STAFF, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.core_inputs import active_plan, knowledge
from dermis.web.clinic.errors import ServiceError, conflict, not_found
from dermis.web.clinic.models import (
    Appointment,
    Equipment,
    LatestRecallContact,
    Location,
    Patient,
    RecallContact,
    Room,
    StaffMember,
    TreatmentPlan,
)
from dermis.web.clinic.prepared import PreparedRows
from dermis.web.clinic.scheduling import recall, services
from dermis.web.clinic.together import Read

OUTCOMES = RecallContact.Outcome
NOTE_MAX = 300
PROPOSALS = 5
WHAT = ("maintenance", "follow_up")


def log_contact(
    actor: Actor,
    patient: Patient,
    *,
    outcome: str,
    snooze_until: date | None = None,
    note: str = "",
) -> RecallContact:
    """One entry in the patient's recall contact log (audited)."""
    actor.require(ANY_STAFF, "working the recall list")
    actor.own(patient, "patient")
    if outcome not in OUTCOMES.values:
        raise ServiceError("outcome", f"must be one of {', '.join(OUTCOMES.values)}")
    if outcome == OUTCOMES.SNOOZE:
        if snooze_until is None:
            raise ServiceError("snooze_until", "is required for a snooze: the day it ends")
        if snooze_until <= clock.today():
            raise ServiceError("snooze_until", "must be a day after today")
    elif snooze_until is not None:
        raise ServiceError("snooze_until", "is only for a snooze")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ServiceError("note", f"is too long (at most {NOTE_MAX} characters)")
    with transaction.atomic():
        row = RecallContact.objects.create(
            clinic=actor.clinic,
            patient=patient,
            outcome=outcome,
            snooze_until=snooze_until,
            note=note,
            at=clock.now(),
            by=actor.user,
            by_name=actor.username[:150],
        )
        record(actor, Action.CREATE, row, summary=f"recall contact ({outcome})")
        keep_latest_contact(patient.pk)
    return row


def keep_latest_contact(patient_id: int) -> None:
    """Point the patient's `LatestRecallContact` at their newest contact (none: no row). Called
    inside the writer's transaction: after a contact is logged, and after a merge moved some."""
    newest = (
        RecallContact.objects.filter(patient_id=patient_id)
        .order_by("-at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if newest is None:
        LatestRecallContact.objects.filter(patient_id=patient_id).delete()
        return
    LatestRecallContact.objects.bulk_create(
        [LatestRecallContact(patient_id=patient_id, contact_id=newest)],
        update_conflicts=True,
        unique_fields=["patient"],
        update_fields=["contact"],
    )


CONTACTS = PreparedRows(  # composed once per process (clinic/prepared.py)
    RecallContact,
    lambda patient: RecallContact.objects.filter(patient_id=patient).order_by("-at", "-pk"),
    patient=int,
)


def contacts(patient: Patient, limit: int = 20) -> list[RecallContact]:
    return CONTACTS.rows(limit, patient=patient.pk, known={"patient": patient})


def contacts_read(patient: Patient, limit: int = 20) -> Read | None:
    """The read `contacts(patient, limit)` makes (`prepared.read_together`)."""
    return CONTACTS.ahead(limit, patient=patient.pk)


@dataclass(frozen=True)
class Offer:
    """What is being offered to the patient: who, where, how long, from which day."""

    what: str  # maintenance or follow_up
    patient: Patient
    practitioner: StaffMember
    location: Location | None
    rooms: tuple[Room, ...]
    equipment: tuple[Equipment, ...]
    minutes: int
    earliest: date
    kind: str
    modality: str = ""
    plan: TreatmentPlan | None = None
    missed: Appointment | None = None


def _maintenance(patient: Patient, today: date, now: datetime) -> Offer:
    due = recall.maintenance_for(patient, today, now)
    if due is None:
        raise conflict("patient", "not due for maintenance, or already booked")
    last = due.last_session
    location, rooms = recall.place(patient, last.appointment.location if last.appointment else None)
    equipment = tuple(Equipment.objects.filter(clinic=patient.clinic, device=last.device))
    kb = knowledge()
    modality = kb.devices[last.device].modality if last.device in kb.devices else ""
    earliest = max(today, due.due)
    if modality:
        safe = safety.first_safe_day(patient, modality, (), earliest)
        if safe is None:
            raise ServiceError("patient", safety.why_not(patient, modality, (), earliest))
        earliest = safe
    return Offer(
        "maintenance",
        patient,
        last.practitioner,
        location,
        rooms,
        equipment,
        due.minutes,
        earliest,
        Appointment.Kind.MAINTENANCE,
        modality,
        active_plan(patient),
    )


def _follow_up(patient: Patient, appointment: int | None, today: date) -> Offer:
    missed = (
        Appointment.objects.filter(
            pk=appointment or 0, patient=patient, kind=Appointment.Kind.FOLLOW_UP
        )
        .select_related("practitioner", "location", "room")
        .first()
    )
    if missed is None:
        raise not_found("appointment")
    location, rooms = recall.place(patient, missed.location)
    return Offer(
        "follow_up",
        patient,
        missed.practitioner,
        location,
        rooms if missed.room_id else (),
        (),
        round((missed.end - missed.start).total_seconds() / 60),
        today,
        Appointment.Kind.FOLLOW_UP,
        plan=missed.plan,
        missed=missed,
    )


def offer_for(
    actor: Actor,
    patient: Patient,
    what: str = "maintenance",
    appointment: int | None = None,
    now: datetime | None = None,
) -> Offer:
    actor.require(ANY_STAFF, "working the recall list")
    actor.own(patient, "patient")
    now = now or clock.now()
    today = timezone.localdate(now)
    if what not in WHAT:
        raise ServiceError("what", f"must be one of {', '.join(WHAT)}")
    if what == "follow_up":
        return _follow_up(patient, appointment, today)
    return _maintenance(patient, today, now)


def propose(
    actor: Actor,
    patient: Patient,
    what: str = "maintenance",
    appointment: int | None = None,
    now: datetime | None = None,
    count: int = PROPOSALS,
) -> tuple[Offer, list[slots.Slot]]:
    """Free slots to offer the patient (nothing is booked)."""
    now = now or clock.now()
    offer = offer_for(actor, patient, what, appointment, now)
    found = recall.free_slots(
        offer.practitioner,
        offer.minutes,
        offer.earliest,
        now,
        location=offer.location,
        rooms=offer.rooms,
        equipment=offer.equipment,
        count=count,
    )
    return offer, found


def book(
    actor: Actor,
    patient: Patient,
    *,
    start: datetime,
    what: str = "maintenance",
    appointment: int | None = None,
    room: int | None = None,
    equipment: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book the slot the patient chose from a proposal, through the booking service."""
    now = now or clock.now()
    offer = offer_for(actor, patient, what, appointment, now)
    if start is None:
        raise ServiceError("start", "is required: pick one of the proposed slots")
    if timezone.localtime(start).date() < offer.earliest:
        raise ServiceError("start", f"is before the first possible day, {offer.earliest:%d %b %Y}")
    rooms = {r.pk: r for r in offer.rooms}
    devices = {e.pk: e for e in offer.equipment}
    if room is not None and room not in rooms:
        raise ServiceError("room", "is not one of the rooms proposed")
    if equipment is not None and equipment not in devices:
        raise ServiceError("equipment", "is not one of the devices proposed")
    if room is None and rooms:
        raise ServiceError("room", "is required: pick one of the proposed slots")
    if equipment is None and devices:
        raise ServiceError("equipment", "is required: pick one of the proposed slots")
    with transaction.atomic():
        made = services.book_appointment(
            actor,
            patient,
            practitioner=offer.practitioner,
            start=start,
            end=start + timedelta(minutes=offer.minutes),
            kind=offer.kind,
            location=offer.location,
            room=rooms.get(room),
            equipment=devices.get(equipment),
            plan=offer.plan,
            modality=offer.modality,
            now=now,
        )
        log_contact(actor, patient, outcome=OUTCOMES.BOOKED, note=made.get_kind_display())
    return made
