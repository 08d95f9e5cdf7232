"""The clinic's own evidence over the API: the calibration report, the parameter sets, and the
admin's refit and revert (clinic.outcomes.evidence, parameter_sets and calibration)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Status

from dermis.web.api.auth import api_actor, require_staff
from dermis.web.api.schemas import Out
from dermis.web.clinic.access import ADMIN_ONLY, CLINICAL, audit
from dermis.web.clinic.outcomes import calibration, evidence, parameter_sets

router = Router(tags=["outcome model"])


class ParameterSetOut(Out):
    id: int | None = Field(description="null for the packaged set")
    version: str = Field(description="the name every forecast made with it shows")
    base_version: str
    active: bool = Field(description="the set the clinic's forecasts use now")
    provenance: str
    follow_ups: int
    patients: int
    created_at: datetime | None
    created_by: str


class CalibrationOut(Out):
    parameter_set: str = Field(description="the set whose forecasts the grades are compared with")
    follow_ups: int = Field(description="grades read from the clinic's records")
    report: dict | None = Field(
        description="as `dermis calibration-report --json`: overall, groups (by concern and "
        "modality: follow_ups, inside_p10_p90, above_p90, below_p10), set_aside, refit; "
        "null while the clinic has no usable follow-up grades"
    )


@router.get(
    "/outcomes/calibration",
    response=CalibrationOut,
    summary="Where the clinic's follow-up grades fell in their forecasts",
)
def get_calibration(request):
    """For every follow-up grade, where it fell in the p10-p90 band of the forecast made before
    it, with the clinic's active parameter set; by concern and modality."""
    staff = require_staff(request, CLINICAL)
    result = evidence.clinic_report(staff.clinic)
    audit(request, "view", None, summary="api: calibration report")
    return {
        "parameter_set": result.parameter_set,
        "follow_ups": result.follow_ups,
        "report": result.report.to_dict() if result.report else None,
    }


@router.get(
    "/outcomes/parameter-sets",
    response=list[ParameterSetOut],
    summary="The packaged parameter set and the clinic's refits",
)
def list_parameter_sets(request):
    staff = require_staff(request, CLINICAL)
    return [s.to_dict() for s in parameter_sets.parameter_sets(staff.clinic)]


def _summary(staff, version: str) -> dict:
    return next(
        s.to_dict() for s in parameter_sets.parameter_sets(staff.clinic) if s.version == version
    )


@router.post(
    "/outcomes/parameter-sets/refit",
    response={201: ParameterSetOut},
    summary="Refit the response to the clinic's grades (admin)",
)
def refit_parameter_set(request):
    """A new parameter set refitted to the clinic's follow-up grades, made the active one. Refused
    (422, naming why) until the clinic has 50 usable grades from 20 patients."""
    staff = require_staff(request, ADMIN_ONLY)
    row = calibration.refit(api_actor(request))
    return Status(201, _summary(staff, row.version))


@router.post(
    "/outcomes/parameter-sets/revert",
    response=ParameterSetOut,
    summary="Forecast with the packaged parameter set again (admin)",
)
def revert_parameter_set(request):
    staff = require_staff(request, ADMIN_ONLY)
    calibration.revert(api_actor(request))
    return _summary(staff, parameter_sets.packaged().version)
