"""The clinic's own evidence: the calibration report page, its chart, and the admin's refit,
revert and choice of parameter set."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from dermis.core.outcome.clinic_calibration import (
    MIN_FOLLOW_UPS_FOR_REFIT,
    MIN_FOLLOW_UPS_PER_GROUP,
    MIN_PATIENTS_FOR_REFIT,
)
from dermis.web.clinic.access import ADMIN_ONLY, CLINICAL, actor_of, audit, staff_required
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.outcomes import calibration, evidence, parameter_sets

NO_CHART_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="480" height="40" role="img">'
    b'<text x="8" y="24" font-family="sans-serif" font-size="14">'
    b"No usable follow-up grades yet.</text></svg>"
)


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _alt(report) -> str:
    o = report.overall
    text = (
        f"Stacked bars, one per concern and modality, of the share of follow-up grades below, "
        f"inside and above the p10-p90 band forecast before them, and a histogram of each grade's "
        f"position in its forecast. Of all {o.n} grades, {o.inside:.0%} fell inside the band, "
        f"{o.above:.0%} above and {o.below:.0%} below (calibrated: 80, 10 and 10 %)."
    )
    return text + " The table on this page gives every bar's numbers."


@staff_required(CLINICAL)
def calibration_page(request):
    clinic = request.staff.clinic
    result = evidence.clinic_report(clinic)
    report = result.report
    sets = parameter_sets.parameter_sets(clinic)
    reasons: dict[str, int] = {}
    for _, _, why in report.set_aside if report else ():
        reasons[why] = reasons.get(why, 0) + 1
    audit(request, "view", None, summary="calibration report")
    context = {
        "result": result,
        "report": report,
        "rows": [
            {"concern": _label(g.concern), "modality": _label(g.modality), "g": g}
            for g in (report.groups if report else ())
        ],
        "alt": _alt(report) if report else "",
        # the core draws 11 x (0.35 per bar + 2.4) inches; SVG points are 1/72 inch
        "chart_height": round((0.35 * (len(report.groups) + 1) + 2.4) * 72) if report else 0,
        "set_aside": reasons,
        "sets": sets,
        "active": next(s for s in sets if s.active),
        "stored": [s for s in sets if s.id is not None],
        "minimum": {
            "follow_ups": MIN_FOLLOW_UPS_FOR_REFIT,
            "patients": MIN_PATIENTS_FOR_REFIT,
            "per_group": MIN_FOLLOW_UPS_PER_GROUP,
        },
        "is_admin": request.staff.role in ADMIN_ONLY,
    }
    return render(request, "clinic/outcomes/calibration.html", context)


@staff_required(CLINICAL)
def calibration_chart(request):
    result = evidence.clinic_report(request.staff.clinic)
    # an image URL answers with an image, also before there is anything to draw
    svg = evidence.report_svg(result.report) if result.report else NO_CHART_SVG
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _done(request, action) -> HttpResponse:
    try:
        message = action(actor_of(request))
    except ServiceError as err:
        messages.error(request, f"{err.message[:1].upper()}{err.message[1:]}.")
    else:
        messages.success(request, message)
    return redirect("calibration-report")


@require_POST
@staff_required(ADMIN_ONLY)
def refit(request):
    def run(actor) -> str:
        row = calibration.refit(actor)
        return f"Refitted: forecasts now use parameter set {row.version}."

    return _done(request, run)


@require_POST
@staff_required(ADMIN_ONLY)
def revert(request):
    def run(actor) -> str:
        calibration.revert(actor)
        return f"Reverted: forecasts use the packaged set {parameter_sets.packaged().version}."

    return _done(request, run)


class ActivateForm(forms.Form):
    set_id = forms.IntegerField(min_value=1)


@require_POST
@staff_required(ADMIN_ONLY)
def activate(request):
    form = ActivateForm(request.POST)

    def run(actor) -> str:
        if not form.is_valid():
            raise ServiceError("set_id", "choose one of the clinic's parameter sets")
        row = calibration.activate(actor, form.cleaned_data["set_id"])
        return f"Forecasts now use parameter set {row.version}."

    return _done(request, run)


urlpatterns = [
    path("outcomes/calibration/", calibration_page, name="calibration-report"),
    path("outcomes/calibration/chart.svg", calibration_chart, name="calibration-chart"),
    path("outcomes/calibration/refit/", refit, name="parameter-set-refit"),
    path("outcomes/calibration/revert/", revert, name="parameter-set-revert"),
    path("outcomes/calibration/activate/", activate, name="parameter-set-activate"),
]
