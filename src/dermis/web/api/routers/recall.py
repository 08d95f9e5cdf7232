"""The recall worklist over the API: the stored list, the contact log, proposals and booking the
chosen slot. The same services as the pages (clinic.scheduling.recall_list and recall_desk).

Any staff member may work the list; only clinical roles get the clinical detail of a row (`why`,
`basis`).
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from dermis.web.api.auth import api_actor, clinic_patient, require_staff
from dermis.web.api.schemas import Out, PathId, Problem
from dermis.web.clinic.access import ANY_STAFF
from dermis.web.clinic.audit import Action, record_many
from dermis.web.clinic.models import AuditEvent, RecallContact
from dermis.web.clinic.scheduling import recall, recall_desk, recall_list, recompute

router = Router(tags=["recall"])


class LastContactOut(Out):
    outcome: str
    at: datetime
    by: str


class MaintenanceOut(Out):
    patient_id: int
    due: date
    modality: str = Field(description="the kind of treatment due")
    basis: str | None = Field(description="forecast or cadence (clinical roles only)")
    why: str | None = Field(description="clinical roles only")
    last_session_id: int | None
    phone: str
    email: str
    last_contact: LastContactOut | None


class IncompleteOut(Out):
    patient_id: int
    plan_id: int
    modality: str
    planned: int
    counted: int
    last: date | None
    phone: str
    email: str
    last_contact: LastContactOut | None


class FollowUpDueOut(Out):
    patient_id: int
    appointment_id: int
    missed_on: date
    phone: str
    email: str
    last_contact: LastContactOut | None


class RecomputingOut(Out):
    done: int = Field(description="patients whose due dates are recomputed so far")
    total: int
    version: str = Field(description="the inputs' version being computed")


class RecallOut(Out):
    recomputing: RecomputingOut | None = Field(
        description="set while due dates are being recomputed for a new parameter set"
    )
    maintenance: list[MaintenanceOut]
    incomplete: list[IncompleteOut]
    follow_ups: list[FollowUpDueOut]
    page: int
    more: bool = Field(description="a later page (`?page=` one more) has rows in some section")


class RecallQuery(Schema):
    page: int = Field(
        1, ge=1, le=10_000, description="the page, from 1: 25 rows of each section, as on the page"
    )


def _reach(row, patient) -> dict:
    outcome = getattr(row, "contact_outcome", None)
    last = (
        {"outcome": outcome, "at": row.contact_at, "by": row.contact_by or ""} if outcome else None
    )
    return {"phone": patient.phone, "email": patient.email, "last_contact": last}


def _sections(work: recall_list.Page, *, clinical: bool) -> dict:
    """The three sections' rows as the API gives them (clinical detail to clinical roles only)."""
    return {
        "maintenance": [
            {
                "patient_id": m.patient.pk,
                "due": m.due,
                "modality": m.modality,
                "basis": m.basis if clinical else None,
                "why": m.why if clinical else None,
                "last_session_id": m.last_session_id,
                **_reach(m, m.patient),
            }
            for m in work.maintenance
        ],
        "incomplete": [
            {
                "patient_id": r.patient.pk,
                "plan_id": r.plan_id,
                "modality": r.modality,
                "planned": r.planned,
                "counted": r.counted,
                "last": r.due,
                **_reach(r, r.patient),
            }
            for r in work.incomplete
        ],
        "follow_ups": [
            {
                "patient_id": f.patient.pk,
                "appointment_id": f.appointment.pk,
                "missed_on": timezone.localtime(f.appointment.start).date(),
                **_reach(f, f.patient),
            }
            for f in work.follow_ups
        ],
    }


@router.get("/recall", response=RecallOut, summary="The recall worklist")
def recall_worklist(request, query: Query[RecallQuery]):
    """Patients due for maintenance, soonest first, by the day their forecast improvement falls
    below noticeable (`basis: forecast`) or the knowledge base's cadence (`basis: cadence`);
    incomplete series; missed follow-ups. 25 of each a page, the same rows as the worklist page of
    that number (`page`, from 1; `more` says whether another follows); a snoozed patient is left
    off until the day the snooze ends."""
    staff = require_staff(request, ANY_STAFF)
    actor = api_actor(request)
    now = timezone.now()
    today = timezone.localdate(now)
    page = query.page
    work = recall_list.kept_worklist(staff.clinic, today, now, size=recall.PAGE_ROWS, page=page)
    record_many(actor, Action.VIEW, list(work.patients().values()), summary="recall worklist")
    clinical = actor.is_clinical
    running = recompute.pending(staff.clinic)
    return {
        "recomputing": (
            {"done": running.done, "total": running.total, "version": running.version}
            if running
            else None
        ),
        **work.drawn_once(
            ("api", clinical, timezone.get_current_timezone_name()),
            lambda: _sections(work, clinical=clinical),
        ),
        "page": page,
        "more": work.more,
    }


class ContactIn(Schema):
    outcome: str = Field(description=", ".join(RecallContact.Outcome.values))
    snooze_until: date | None = Field(None, description="for a snooze: the day it ends")
    note: str = ""


class ContactOut(Out):
    id: int
    patient_id: int
    outcome: str
    snooze_until: date | None
    note: str
    at: datetime
    by: str


def _contact(c: RecallContact) -> dict:
    return {
        "id": c.pk,
        "patient_id": c.patient_id,
        "outcome": c.outcome,
        "snooze_until": c.snooze_until,
        "note": c.note,
        "at": c.at,
        "by": c.by_name,
    }


@router.get(
    "/recall/{patient_id}/contacts",
    response=list[ContactOut],
    summary="A patient's recall contact log",
)
def list_contacts(request, patient_id: PathId):
    """Newest first (the last 20)."""
    staff = require_staff(request, ANY_STAFF)
    patient = clinic_patient(staff, patient_id)
    record_many(api_actor(request), AuditEvent.Action.VIEW, [patient], summary="recall contacts")
    return [_contact(c) for c in recall_desk.contacts(patient)]


@router.post(
    "/recall/{patient_id}/contacts",
    response={201: ContactOut, 422: Problem},
    summary="Log a recall contact",
)
def log_contact(request, patient_id: PathId, payload: ContactIn):
    """Called, no answer, left a message, booked, declined, or snooze until a later day (the
    patient leaves the worklist until then)."""
    staff = require_staff(request, ANY_STAFF)
    patient = clinic_patient(staff, patient_id)
    row = recall_desk.log_contact(
        api_actor(request),
        patient,
        outcome=payload.outcome,
        snooze_until=payload.snooze_until,
        note=payload.note,
    )
    return Status(201, _contact(row))


class OfferQuery(Schema):
    what: str = Field("maintenance", description="maintenance or follow_up")
    appointment_id: int | None = Field(None, description="the missed follow-up (follow_up)")


class FreeSlotOut(Out):
    start: datetime
    end: datetime
    practitioner_id: int
    room_id: int | None
    equipment_id: int | None


class OfferOut(Out):
    what: str
    minutes: int
    earliest: date
    practitioner_id: int
    location_id: int | None
    slots: list[FreeSlotOut]


@router.get(
    "/recall/{patient_id}/proposals",
    response={200: OfferOut, 409: Problem, 422: Problem},
    summary="Free slots to offer a patient on the recall list",
)
def proposals(request, patient_id: PathId, query: Query[OfferQuery]):
    """Nothing is booked: offer these, then book the one the patient chooses with
    `POST /recall/{patient_id}/bookings`."""
    staff = require_staff(request, ANY_STAFF)
    patient = clinic_patient(staff, patient_id)
    offer, found = recall_desk.propose(
        api_actor(request), patient, query.what, query.appointment_id
    )
    return {
        "what": offer.what,
        "minutes": offer.minutes,
        "earliest": offer.earliest,
        "practitioner_id": offer.practitioner.pk,
        "location_id": offer.location.pk if offer.location else None,
        "slots": [
            {
                "start": timezone.localtime(s.start),
                "end": timezone.localtime(s.end),
                "practitioner_id": offer.practitioner.pk,
                "room_id": getattr(s.room, "pk", None),
                "equipment_id": getattr(s.device, "pk", None),
            }
            for s in found
        ],
    }


class RecallBookingIn(Schema):
    start: datetime
    what: str = "maintenance"
    appointment_id: int | None = None
    room_id: int | None = None
    equipment_id: int | None = None


class BookedOut(Out):
    appointment_id: int
    kind: str
    start: datetime
    end: datetime
    practitioner_id: int


@router.post(
    "/recall/{patient_id}/bookings",
    response={201: BookedOut, 409: Problem, 422: Problem},
    summary="Book the slot a patient on the recall list chose",
)
def book_chosen(request, patient_id: PathId, payload: RecallBookingIn):
    """Through the booking service (rules, safety gate; 409 when the slot was just taken); logs a
    "booked" contact."""
    staff = require_staff(request, ANY_STAFF)
    patient = clinic_patient(staff, patient_id)
    start = (
        payload.start if timezone.is_aware(payload.start) else timezone.make_aware(payload.start)
    )
    made = recall_desk.book(
        api_actor(request),
        patient,
        start=start,
        what=payload.what,
        appointment=payload.appointment_id,
        room=payload.room_id,
        equipment=payload.equipment_id,
    )
    return Status(
        201,
        {
            "appointment_id": made.pk,
            "kind": made.kind,
            "start": timezone.localtime(made.start),
            "end": timezone.localtime(made.end),
            "practitioner_id": made.practitioner_id,
        },
    )
