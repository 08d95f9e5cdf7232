"""Slot proposals for a plan's series: the web's scheduling, over the API (the recall worklist is
`recall.py`).

They call the same services as the pages (clinic.scheduling.series), so a proposal here is the
proposal the booking page shows.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from dermis.core.errors import InputError
from dermis.web.api.auth import clinic_record, require_staff
from dermis.web.api.errors import conflict, field_error
from dermis.web.api.schemas import Day, Out, PathId, Problem
from dermis.web.clinic.access import ANY_STAFF, audit
from dermis.web.clinic.models import AuditEvent, StaffMember, TreatmentPlan
from dermis.web.clinic.scheduling import series

router = Router(tags=["scheduling"])


class SlotOut(Out):
    session: int
    start: datetime
    end: datetime
    practitioner_id: int
    room_id: int | None
    equipment_id: int | None
    interval_days: int | None
    reason: str


class SeriesOut(Out):
    sessions: list[SlotOut]
    honours_preferences: bool
    summary: str


class ProposalOut(Out):
    ok: bool
    reason: str = Field(description="why nothing fits, when nothing does")
    proposal: SeriesOut | None
    alternatives: list[SeriesOut]
    notes: list[str]


class ProposalQuery(Schema):
    practitioner_id: int | None = Field(None, description="default: the plan's author")
    weekdays: str = Field("", description="preferred weekdays, 0=Monday, e.g. 1,3")
    earliest: Day | None = None
    course: int = Field(0, ge=0, description="which of the plan's courses")


def _pk(resource) -> int | None:
    return getattr(resource, "pk", None) if resource is not None else None


def _series(proposal) -> dict:
    return {
        "sessions": [
            {
                "session": c.index + 1,
                "start": c.slot.start,
                "end": c.slot.end,
                "practitioner_id": _pk(c.slot.practitioner),
                "room_id": _pk(c.slot.room),
                "equipment_id": _pk(c.slot.device),
                "interval_days": c.interval_days,
                "reason": c.reason,
            }
            for c in proposal.sessions
        ],
        "honours_preferences": proposal.honours_preferences,
        "summary": proposal.summary,
    }


def _weekdays(text: str) -> frozenset[int]:
    try:
        days = frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise field_error(
            "query.weekdays", "must be whole numbers 0-6 separated by commas"
        ) from None
    if any(not 0 <= d <= 6 for d in days):
        raise field_error("query.weekdays", "must be between 0 (Monday) and 6 (Sunday)")
    return days


@router.get(
    "/plans/{plan_id}/slot-proposals",
    response={200: ProposalOut, 409: Problem},
    summary="Propose slots for every remaining session of a plan's course",
)
def slot_proposals(request, plan_id: PathId, query: Query[ProposalQuery]):
    """The slot finder's best series and alternatives for the plan's active version, honouring
    the course's interval range, the practitioner's hours and the preferred weekdays. Nothing
    is booked: book each slot with POST /appointments, or the whole series on the web page.
    409 `urn:dermis:problem:not-bookable` when the plan version is superseded, not safe or already
    fully booked."""
    staff = require_staff(request, ANY_STAFF)
    plan = clinic_record(staff, TreatmentPlan, plan_id)
    if query.practitioner_id is None:
        practitioner = plan.created_by.staff if plan.created_by_id else staff
    else:
        practitioner = StaffMember.objects.filter(
            pk=query.practitioner_id, clinic=staff.clinic
        ).first()
        if practitioner is None:
            raise field_error("query.practitioner_id", "no such practitioner in your clinic")
    prefs = series.Preferences(
        practitioner=practitioner,
        weekdays=_weekdays(query.weekdays),
        earliest=query.earliest,
        course=query.course,
    )
    try:
        setup = series.setup(plan, prefs, timezone.now())
        result = series.propose(setup)
    except series.NotBookable as exc:
        raise conflict(str(exc), "urn:dermis:problem:not-bookable") from None
    except InputError as exc:
        raise field_error(f"query.{exc.field}", exc.message) from None
    audit(request, AuditEvent.Action.VIEW, plan, summary="slot proposals")
    return {
        "ok": result.ok,
        "reason": result.reason or "",
        "proposal": _series(result.proposal) if result.proposal else None,
        "alternatives": [_series(a) for a in result.alternatives],
        "notes": list(setup.notes),
    }
