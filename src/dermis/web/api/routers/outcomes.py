"""A patient's outcome forecast, as the follow-up page shows it (clinic.outcomes.forecasting)."""

from __future__ import annotations

from datetime import date

from ninja import Field, Router

from dermis.web.api.auth import clinic_patient, require_staff
from dermis.web.api.schemas import Out, PathId
from dermis.web.clinic.access import CLINICAL, audit
from dermis.web.clinic.models import AuditEvent
from dermis.web.clinic.outcomes.selectors import patient_forecast

router = Router(tags=["clinical record"])


class FollowUpOut(Out):
    day: int
    low_pct: float
    high_pct: float


class ForecastOut(Out):
    available: bool
    reason: str = Field(description="why there is no forecast, when there is none")
    title: str | None
    summary: str = Field(description="the forecast in words")
    start: date | None = Field(description="day 0 of the forecast")
    modality: str
    area: str
    concern: str
    setting: str
    sessions_done: list[int]
    sessions_planned: list[int]
    follow_ups: list[FollowUpOut]
    below_noticeable_on: date | None
    forecast: dict | None = Field(description="as `dermis forecast --json`: days, p10/p50/p90")
    parameter_set: str | None = Field(
        description="the version of the outcome-model parameter set the forecast comes from"
    )


@router.get(
    "/patients/{patient_id}/forecast",
    response=ForecastOut,
    summary="Outcome forecast from the plan, sessions and grades",
)
def get_forecast(request, patient_id: PathId):
    """Improvement in percent of pre-treatment severity over time (p10, p50, p90), personalised
    to the patient's follow-up grades. `available` is false, with a reason, before there is a
    plan to forecast."""
    staff = require_staff(request, CLINICAL)
    patient = clinic_patient(staff, patient_id)
    result = patient_forecast(patient)
    audit(request, AuditEvent.Action.VIEW, patient, summary="api: forecast")
    available = result.forecast is not None
    return {
        "available": available,
        "reason": result.reason,
        "title": result.title if available else None,
        "summary": result.summary(),
        "start": result.start,
        "modality": result.modality,
        "area": result.area,
        "concern": result.concern,
        "setting": result.setting,
        "sessions_done": list(result.sessions_done),
        "sessions_planned": list(result.sessions_planned),
        "follow_ups": [
            {"day": f.day, "low_pct": f.low_pct, "high_pct": f.high_pct} for f in result.follow_ups
        ],
        "below_noticeable_on": result.below_noticeable_on,
        "forecast": result.forecast.to_dict() if available else None,
        "parameter_set": result.parameter_set or None,
    }
