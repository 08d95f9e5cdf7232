"""The patient's own forecast: the chart with its p10-p90 band, in plain words."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path

from dermis.core.outcome.forecast import PATIENT_SENTENCE
from dermis.web.clinic import clock
from dermis.web.clinic.outcomes.forecasting import patient_forecast, patient_forecast_svg
from dermis.web.clinic.portal.access import patient_required


def explain(result) -> dict:
    """Plain words for the chart: the typical peak, how long a difference lasts, maintenance."""
    f = result.forecast
    peak = f.peak_day
    lo, mid, hi = f.at(peak)
    lasting = result.day(f.noticeable_until_day) if f.noticeable_until_day is not None else None
    months = None
    if lasting is not None and result.start is not None and f.sessions:
        last_session = result.day(max(f.sessions))
        months = max(1, round((lasting - last_session).days / 30.4))
    still_at_end = f.noticeable_until_day is not None and f.noticeable_until_day >= f.days[-1]
    return {
        "peak_date": result.day(peak),
        "mid": round(mid),
        "low": round(lo),
        "high": round(hi),
        "months": months,
        "still_at_end": still_at_end,
        "never": f.noticeable_until_day is None,
        "maintenance": result.below_noticeable_on,
    }


@patient_required
def forecast(request):
    patient = request.patient
    result = patient_forecast(patient, clock.today())
    context = {"patient": patient, "result": result, "sentence": PATIENT_SENTENCE}
    if result.forecast is not None:
        context["plain"] = explain(result)
    return render(request, "clinic/portal/forecast.html", context)


@patient_required
def forecast_chart(request):
    svg, _why = patient_forecast_svg(request.patient, clock.today())
    if not svg:
        raise Http404("no forecast")
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("my/forecast/", forecast, name="portal-forecast"),
    path("my/forecast.svg", forecast_chart, name="portal-forecast-chart"),
]
