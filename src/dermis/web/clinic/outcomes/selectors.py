"""Reading outcomes: the record page's forecast (and its chart), the API's, the recall worklist's.

The forecast is `forecasting.py`'s translation of the record into the core's outcome model; the
callers here have already checked who may see it (clinical staff of the patient's clinic).
"""

from __future__ import annotations

from datetime import date

from dermis.web.clinic.models import Patient
from dermis.web.clinic.outcomes import forecasting
from dermis.web.clinic.outcomes.forecasting import PatientForecast

__all__ = [
    "PatientForecast",
    "below_noticeable_on",
    "forecast_chart",
    "forecast_panel",
    "patient_forecast",
]


def patient_forecast(patient: Patient, today: date | None = None) -> PatientForecast:
    """The patient's forecast, or PatientForecast(None, why there is none)."""
    return forecasting.patient_forecast(patient, today)


def forecast_panel(patient: Patient, today: date | None = None) -> forecasting.Panel:
    """What the record page says of the forecast (kept apart from the forecast itself)."""
    return forecasting.forecast_panel(patient, today)


def forecast_chart(
    patient: Patient, today: date | None = None, version: tuple[int, int] | None = None
) -> tuple[bytes, str]:
    """The forecast chart as SVG, or (b'', why there is none). `version`: the patient's record
    version, read before the patient (`patients.record_version`)."""
    return forecasting.patient_forecast_svg(patient, today, version)


def below_noticeable_on(patient: Patient, today: date | None = None) -> date | None:
    """The day the median improvement falls below noticeable (None: no such day)."""
    return forecasting.below_noticeable_on(patient, today)
