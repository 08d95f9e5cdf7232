"""The clinic's portal settings, changed by its admins: the portal on or off, the out-of-hours
advice patients see beside the warning signs, and the days after a session on which patients are
asked to check in (the portal's prompt and the check-in messages)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from dermis.web.clinic.actors import ADMIN_ONLY, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import PortalSettings
from dermis.web.clinic.portal.checkins import FIRST_DAY, LAST_DAY, MAX_PROMPT_DAYS

ADVICE_MAX = 1000
DAYS_FIELD = "checkin_days"


def parse_days(value: str | Iterable[int | str]) -> list[int]:
    """Check-in days from "1, 3, 7" (or a list), sorted. Each a whole number from 1 to 14, none
    twice, at least one and at most five; otherwise a ServiceError naming `checkin_days`."""
    parts = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    days = []
    for part in parts:
        if isinstance(part, bool):
            part = str(part)
        try:
            day = part if isinstance(part, int) else int(str(part).strip())
        except ValueError:
            raise ServiceError(
                DAYS_FIELD, f"“{part}” is not a day: write whole numbers such as 1, 3, 7"
            ) from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ServiceError(
                DAYS_FIELD, f"each day must be from {FIRST_DAY} to {LAST_DAY} after the session"
            )
        if day in days:
            raise ServiceError(DAYS_FIELD, f"day {day} is there twice")
        days.append(day)
    if not days:
        raise ServiceError(DAYS_FIELD, "choose at least one day")
    if len(days) > MAX_PROMPT_DAYS:
        raise ServiceError(DAYS_FIELD, f"choose at most {MAX_PROMPT_DAYS} days")
    return sorted(days)


def update_portal_settings(
    actor: Actor,
    *,
    enabled: bool,
    out_of_hours_advice: str,
    checkin_days: str | Iterable[int | str],
) -> PortalSettings:
    """Save the clinic's portal settings (an admin's). Blank advice means the standard advice."""
    actor.require(ADMIN_ONLY, "changing the portal settings")
    if not isinstance(enabled, bool):
        raise ServiceError("enabled", "must be on or off")
    advice = (out_of_hours_advice or "").strip()
    if len(advice) > ADVICE_MAX:
        raise ServiceError("out_of_hours_advice", f"must be at most {ADVICE_MAX} characters")
    days = parse_days(checkin_days)
    with transaction.atomic():
        row, _ = PortalSettings.objects.select_for_update().get_or_create(clinic=actor.clinic)
        row.enabled, row.out_of_hours_advice, row.checkin_days = enabled, advice, days
        row.save(update_fields=["enabled", "out_of_hours_advice", "checkin_days"])
        state = "on" if enabled else "off"
        shown = ", ".join(map(str, days))
        record(
            actor, Action.UPDATE, row, summary=f"portal settings: portal {state}, check-ins {shown}"
        )
    return row
