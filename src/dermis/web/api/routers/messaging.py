"""Reminder delivery (sent, failed with the reason, retrying; send again) and the waitlist."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import partial
from typing import Annotated, Literal

from ninja import Field, Query, Router, Status
from pydantic import field_validator

from dermis.web.api.auth import api_actor, require_staff
from dermis.web.api.errors import field_error
from dermis.web.api.schemas import Id, In, Kind, Out, Page, PageQuery, PathId, Problem
from dermis.web.clinic.access import ANY_STAFF
from dermis.web.clinic.errors import not_found
from dermis.web.clinic.models import (
    Location,
    Patient,
    Reminder,
    Role,
    StaffMember,
    WaitlistEntry,
)
from dermis.web.clinic.prepared import PreparedCount, PreparedRows
from dermis.web.clinic.reminders import services as reminders
from dermis.web.clinic.reminders.views import DELIVERY_ROLES
from dermis.web.clinic.waitlist import services as waitlist

router = Router(tags=["reminders and waitlist"])
Status_ = Reminder.Status
SHOWN = {
    "failed": {"status": Status_.FAILED},
    "retrying": {"status__in": (Status_.PENDING, Status_.SENDING), "attempts__gt": 0},
    "sent": {"status": Status_.SENT},
}


def _reminders(clinic: int, state: str):
    return Reminder.objects.filter(patient__clinic_id=clinic, **SHOWN[state]).order_by(
        "-due_at", "-pk"
    )


def _waiting(clinic: int):
    return WaitlistEntry.objects.filter(clinic_id=clinic, status="waiting").order_by(
        "created_at", "pk"
    )


# The lists and their counts, composed once per process (clinic/prepared.py): composing them
# took as long as reading a page of them.
REMINDER_PAGES = {
    state: (
        PreparedRows(Reminder, partial(_reminders, state=state), clinic=int),
        PreparedCount(Reminder, partial(_reminders, state=state), clinic=int),
    )
    for state in SHOWN
}
WAITING = PreparedRows(WaitlistEntry, _waiting, clinic=int)
WAITING_COUNT = PreparedCount(WaitlistEntry, _waiting, clinic=int)


class ReminderOut(Out):
    id: int
    patient_id: int
    appointment_id: int | None
    kind: str
    channel: str
    status: str
    due_at: datetime
    attempts: int
    last_error: str = Field(description="why it failed (codes only, never the message text)")
    next_try_at: datetime | None
    sent_at: datetime | None


class ReminderQuery(PageQuery):
    state: Literal["failed", "retrying", "sent"] = "failed"


class WaitlistIn(In):
    patient_id: Id
    practitioner_id: Id | None = None
    location_id: Id | None = None
    plan_id: Id | None = None
    kind: Kind = "treatment"
    modality: Literal["", "microneedling", "microdermabrasion"] = ""
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=list, max_length=7, description="0 = Monday; empty: any day"
    )
    earliest: time | None = Field(None, description="clinic time, not starting before")
    latest: time | None = Field(None, description="clinic time, finished by")
    before: date | None = Field(None, description="only slots before this day")
    minutes: int = Field(60, description="10 to 480")

    @field_validator("earliest", "latest")
    @classmethod
    def clinic_time(cls, value: time | None) -> time | None:
        # A wish is a time of day at the clinic: an offset would not mean anything here.
        return value.replace(tzinfo=None) if value is not None else None


class WaitlistOut(Out):
    id: int
    patient_id: int
    practitioner_id: int | None
    location_id: int | None
    plan_id: int | None
    kind: str
    modality: str
    weekdays: list[int]
    earliest: str | None = Field(description="HH:MM, clinic time")
    latest: str | None = Field(description="HH:MM, clinic time")
    before: date | None
    minutes: int
    status: str
    appointment_id: int | None
    created_at: datetime


def reminder_out(r: Reminder) -> dict:
    return {name: getattr(r, name) for name in ReminderOut.model_fields}


def entry_out(e: WaitlistEntry) -> dict:
    data = {name: getattr(e, name) for name in WaitlistOut.model_fields}
    data["weekdays"] = e.weekday_numbers
    for name in ("earliest", "latest"):
        data[name] = data[name].strftime("%H:%M") if data[name] else None
    return data


@router.get("/reminders", response=Page[ReminderOut], summary="Reminder delivery")
def list_reminders(request, query: Query[ReminderQuery]):
    """Failed (with the reason), being retried, or sent; newest first (admins, front desk)."""
    staff = require_staff(request, DELIVERY_ROLES)
    page, count = REMINDER_PAGES[query.state]
    window = page.rows(query.limit, query.offset, clinic=staff.clinic_id)
    return {
        "count": count.count(clinic=staff.clinic_id),
        "limit": query.limit,
        "offset": query.offset,
        "items": [reminder_out(r) for r in window],
    }


@router.post(
    "/reminders/{reminder_id}/send-again",
    response={200: ReminderOut, 409: Problem},
    summary="Send a failed reminder again",
)
def send_again(request, reminder_id: PathId):
    staff = require_staff(request, DELIVERY_ROLES)
    row = Reminder.objects.select_related("patient").filter(pk=reminder_id).first()
    if row is None or row.patient.clinic_id != staff.clinic_id:
        raise not_found()
    return reminder_out(reminders.send_again(api_actor(request), row))


@router.get("/waitlist", response=Page[WaitlistOut], summary="Patients waiting for a slot")
def list_waitlist(request, query: Query[PageQuery]):
    staff = require_staff(request, ANY_STAFF)
    window = WAITING.rows(query.limit, query.offset, clinic=staff.clinic_id)
    return {
        "count": WAITING_COUNT.count(clinic=staff.clinic_id),
        "limit": query.limit,
        "offset": query.offset,
        "items": [entry_out(e) for e in window],
    }


def _mine(model, pk: int | None, staff: StaffMember, field: str, **more):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, clinic=staff.clinic, **more).first()
    if obj is None:
        raise field_error(f"body.{field}", "is not one of this clinic's")
    return obj


@router.post(
    "/waitlist", response={201: WaitlistOut, 422: Problem}, summary="Put a patient on the waitlist"
)
def add_to_waitlist(request, payload: WaitlistIn):
    """When a cancellation frees a slot that fits, the first patients waiting are offered it by
    e-mail (and SMS) with a link; the first to accept is booked through the booking rules."""
    staff = require_staff(request, ANY_STAFF)
    patient = Patient.objects.filter(pk=payload.patient_id, clinic=staff.clinic).first()
    if patient is None:
        raise field_error("body.patient_id", "is not a patient of this clinic")
    practitioner = _mine(
        StaffMember,
        payload.practitioner_id,
        staff,
        "practitioner_id",
        role__in=(Role.ADMIN, Role.PRACTITIONER),
    )
    plan = None
    if payload.plan_id is not None:
        plan = patient.plans.filter(pk=payload.plan_id).first()
        if plan is None:
            raise field_error("body.plan_id", "is not one of this patient's plans")
    entry = waitlist.add_entry(
        api_actor(request),
        patient,
        practitioner=practitioner,
        location=_mine(Location, payload.location_id, staff, "location_id"),
        plan=plan,
        kind=payload.kind,
        modality=payload.modality,
        weekdays=payload.weekdays,
        earliest=payload.earliest,
        latest=payload.latest,
        before=payload.before,
        minutes=payload.minutes,
    )
    return Status(201, entry_out(entry))


@router.post(
    "/waitlist/{entry_id}/remove",
    response={200: WaitlistOut, 409: Problem},
    summary="Take a patient off the waitlist",
)
def remove_from_waitlist(request, entry_id: PathId):
    staff = require_staff(request, ANY_STAFF)
    entry = WaitlistEntry.objects.filter(pk=entry_id, clinic=staff.clinic).first()
    if entry is None:
        raise not_found()
    return entry_out(waitlist.remove_entry(api_actor(request), entry))
