"""Reads for the portal: the clinic's portal settings and what the signed-in patient may see."""

from __future__ import annotations

from dermis.web.clinic.models import Clinic, PortalSettings

DEFAULT_OUT_OF_HOURS = (
    "If the clinic is closed and you are worried, call NHS 111. "
    "If you have trouble breathing, swelling of the face or lips, or feel very unwell, call 999."
)


def settings_of(clinic: Clinic) -> PortalSettings:
    """The clinic's portal settings (the defaults, unsaved, when it has none)."""
    found = PortalSettings.objects.filter(clinic=clinic).first()
    return found or PortalSettings(clinic=clinic)


def portal_enabled(clinic: Clinic) -> bool:
    return settings_of(clinic).enabled


def out_of_hours(clinic: Clinic) -> str:
    return settings_of(clinic).out_of_hours_advice or DEFAULT_OUT_OF_HOURS


def checkin_days(clinic: Clinic) -> tuple[int, ...]:
    """The days after a session on which the clinic asks its patients to check in, in order."""
    return tuple(sorted(settings_of(clinic).checkin_days))
