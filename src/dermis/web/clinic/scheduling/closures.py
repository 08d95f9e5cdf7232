"""Days nobody may be booked: public holidays of a location's country and region (the `holidays`
package) and the clinic's own closure days. Read by every slot search (availability.build), by
the booking rules (rules.check_booking) and by the diary.

A search at one location sees that location's holidays and closures, and the clinic-wide
closures. A search without a location sees the clinic-wide closures and the holidays every one
of the clinic's locations shares (a day all of them are closed).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
from django.db.models import Q

from dermis.web.clinic.models import ClosureDay, Location
from dermis.web.clinic.prepared import PreparedValues


@lru_cache(maxsize=256)
def _public(country: str, subdivision: str, year: int) -> dict[date, str]:
    try:
        found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        return {}
    return dict(found.items())


def supported() -> dict[str, list[str]]:
    """Country code -> its region codes, as the holidays package knows them."""
    return holidays.list_supported_countries()


def public_holidays(location: Location, first: date, last: date) -> dict[date, str]:
    if not location.country:
        return {}
    out: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        for day, name in _public(location.country, location.subdivision, year).items():
            if first <= day <= last:
                out[day] = name
    return out


# Read by every slot search and every diary page: composed once per process (clinic/prepared.py).
CLOSED_AT = PreparedValues(
    ClosureDay,
    lambda clinic, location, first, last: ClosureDay.objects.filter(
        Q(location_id=location) | Q(location__isnull=True),
        clinic_id=clinic,
        day__gte=first,
        day__lte=last,
    ).values_list("day", "reason"),
    clinic=int,
    location=int,
    first=date,
    last=date,
)
CLOSED_EVERYWHERE = PreparedValues(  # the clinic-wide closures only
    ClosureDay,
    lambda clinic, first, last: ClosureDay.objects.filter(
        location__isnull=True, clinic_id=clinic, day__gte=first, day__lte=last
    ).values_list("day", "reason"),
    clinic=int,
    first=date,
    last=date,
)
CLOSED_ANYWHERE = PreparedValues(  # every location's and the clinic-wide ones
    ClosureDay,
    lambda clinic, first, last: ClosureDay.objects.filter(
        clinic_id=clinic, day__gte=first, day__lte=last
    ).values_list("location_id", "day", "reason"),
    clinic=int,
    first=date,
    last=date,
)


def closed_read(clinic_id: int, location: Location | None, first: date, last: date):
    """The read of the clinic's closures `closed_days` makes (`prepared.read_together`)."""
    if location is None:
        return CLOSED_EVERYWHERE.ahead(clinic=clinic_id, first=first, last=last)
    return CLOSED_AT.ahead(clinic=clinic_id, location=location.pk, first=first, last=last)


def closed_days(
    clinic_id: int, location: Location | None, first: date, last: date
) -> dict[date, str]:
    """{day: why} for the days between `first` and `last` (inclusive) nothing may be booked."""
    out: dict[date, str] = {}
    if location is not None:
        out.update(public_holidays(location, first, last))
    else:
        places = list(Location.objects.filter(clinic_id=clinic_id))
        if places and all(p.country for p in places):
            shared = None
            for p in places:
                days = public_holidays(p, first, last)
                shared = days if shared is None else {d: n for d, n in shared.items() if d in days}
            out.update(shared or {})
    if location is None:
        rows = CLOSED_EVERYWHERE.rows(clinic=clinic_id, first=first, last=last)
    else:
        rows = CLOSED_AT.rows(clinic=clinic_id, location=location.pk, first=first, last=last)
    for day, reason in rows:
        out[day] = reason or "the clinic is closed"
    return out


def closed_by_location(
    clinic_id: int, locations: list[Location], first: date, last: date
) -> dict[int | None, dict[date, str]]:
    """closed_days for each location (key: its id) and for the clinic as a whole (key None),
    in two queries whatever the number of days."""
    rows = CLOSED_ANYWHERE.rows(clinic=clinic_id, first=first, last=last)
    out: dict[int | None, dict[date, str]] = {}
    for place in locations:
        days = public_holidays(place, first, last)
        for loc_id, day, reason in rows:
            if loc_id in (None, place.pk):
                days[day] = reason or "the clinic is closed"
        out[place.pk] = days
    everywhere = [out[p.pk] for p in locations]
    shared = (
        {d: n for d, n in everywhere[0].items() if all(d in o for o in everywhere)}
        if (everywhere)
        else {}
    )
    shared.update(
        {day: reason or "the clinic is closed" for loc, day, reason in rows if loc is None}
    )
    out[None] = shared
    return out
