"""Booking rules, once, for every door: not in the past, a length the clinic allows, inside the
practitioner's working hours (at the location when it is given) and outside their time off.

The database still referees double-booking (booking.py); the gate (safety.py) decides whether a
treatment is safe on that day. These rules are what makes a time bookable at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import Location, StaffMember, TimeOff
from dermis.web.clinic.scheduling import availability, closures

MIN_MINUTES = 5
MAX_MINUTES = 480  # a working day; longer is a typing slip (dermis_default)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_length(start: datetime, end: datetime, field: str = "end") -> None:
    minutes = (end - start).total_seconds() / 60
    if minutes <= 0:
        raise ServiceError(field, "the appointment must end after it starts")
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ServiceError(
            field, f"must be between {MIN_MINUTES} and {MAX_MINUTES} minutes (8 hours)"
        )


def check_not_past(start: datetime, now: datetime | None = None, field: str = "start") -> None:
    if start < (now or clock.now()):
        raise ServiceError(field, "is in the past: choose a time from now on")


def check_hours(
    practitioner: StaffMember,
    start: datetime,
    end: datetime,
    location: Location | None = None,
    field: str = "start",
) -> None:
    """Inside one of the practitioner's working windows that day, and not in their time off."""
    hours = availability.weekly_hours([practitioner.pk], location).get(practitioner.pk)
    at = f" at {location.name}" if location else ""
    if hours is None:
        raise ServiceError(
            "practitioner",
            f"{practitioner.display_name} has no working hours{at}: an admin can add them on "
            "the availability page",
        )
    zone = availability.clinic_zone()
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = local_start.weekday()
    windows = hours.by_weekday.get(day, ())
    if local_end.date() != local_start.date() and local_end.time() != datetime.min.time():
        inside = False
    else:
        inside = any(
            s <= local_start.time() and (local_end - timedelta(microseconds=1)).time() < e
            for s, e in windows
        )
    if not inside:
        spans = ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in windows)
        when = f"{WEEKDAYS[day]}s {spans}" if spans else f"no hours on {WEEKDAYS[day]}s"
        raise ServiceError(
            field, f"is outside {practitioner.display_name}'s working hours{at} ({when})"
        )
    off = TimeOff.objects.filter(staff=practitioner, start__lt=end, end__gt=start).first()
    if off is not None:
        away, back = timezone.localtime(off.start), timezone.localtime(off.end)
        raise ServiceError(
            field,
            f"{practitioner.display_name} is away from {away:%d %b %Y %H:%M} "
            f"to {back:%d %b %Y %H:%M}",
        )


def check_booking(
    practitioner: StaffMember,
    start: datetime,
    end: datetime,
    location: Location | None = None,
    now: datetime | None = None,
) -> None:
    """Every rule a single booking or a move must meet, in the order a person would fix them."""
    check_not_past(start, now)
    check_length(start, end)
    check_open(practitioner, start, end, location)
    check_hours(practitioner, start, end, location)


def check_open(
    practitioner: StaffMember,
    start: datetime,
    end: datetime,
    location: Location | None = None,
    field: str = "start",
) -> None:
    """Not on a public holiday of the location or a day the clinic has closed."""
    zone = availability.clinic_zone()
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    closed = closures.closed_days(practitioner.clinic_id, location, first, last)
    if closed:
        day = min(closed)
        raise ServiceError(field, f"the clinic is closed on {day:%a %d %b %Y} ({closed[day]})")
