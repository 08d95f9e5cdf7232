"""Who the public directory lists and where they work, and what a location's public page shows:
shared by the pages and the API.

Only clinical staff who chose to be listed, with an active account, ever appear; front desk
staff never do, whatever their flag says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db.models import Q

from dermis.web.clinic.models import (
    CLINICAL_ROLES,
    MODALITIES,
    Location,
    StaffMember,
    WorkingHours,
)
from dermis.web.clinic.portal.selectors import portal_enabled
from dermis.web.clinic.scheduling import closures

# A UK postcode without spaces: outward code (area letters, district) then the inward code.
_POSTCODE = re.compile(r"(?P<outward>(?P<area>[A-Z]{1,2})\d[A-Z\d]?)(?P<inward>\d[A-Z]{2})?")


def listed():
    return (
        StaffMember.objects.filter(
            listed_in_directory=True, role__in=CLINICAL_ROLES, user__is_active=True
        )
        .select_related("clinic")
        .prefetch_related("locations", "clinic__locations")
        .order_by("display_name", "pk")
    )


def places(staff: StaffMember) -> list:
    """Where the practitioner works: their own locations, else all of their clinic's."""
    return list(staff.locations.all()) or list(staff.clinic.locations.all())


def treatment_names(staff: StaffMember) -> list[str]:
    names = dict(MODALITIES)
    return [names.get(t, t) for t in staff.treatments or [] if isinstance(t, str)]


def _compact(postcode: str) -> str:
    return re.sub(r"\s+", "", postcode).upper()


def postcode_matches(query: str, postcode: str) -> bool:
    """ "LS1" or "LS1 9ZZ" match "LS1 4AP" (same outward code), "LS" matches any LS postcode;
    "LS1" does not match "LS12 3AB"."""
    q, target = _compact(query), _POSTCODE.fullmatch(_compact(postcode))
    if not q or target is None:
        return bool(q) and _compact(postcode).startswith(q)
    if q.isalpha():
        return q == target["area"]
    wanted = _POSTCODE.fullmatch(q)
    return wanted is not None and wanted["outward"] == target["outward"]


def matches_place(staff: StaffMember, query: str) -> bool:
    town = " ".join(query.split()).casefold()
    # Where they actually work: a practitioner at one branch is not found at the head office.
    spots = [(loc.town, loc.postcode) for loc in places(staff)]
    spots = spots or [(staff.clinic.town, staff.clinic.postcode)]
    return any(t.casefold() == town or postcode_matches(query, p) for t, p in spots)


# Location pages: a place is public when its clinic takes bookings online and at least one listed
# practitioner works there.

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CLOSURES_AHEAD_DAYS = 60


@dataclass(frozen=True)
class Opening:
    """One weekday's opening: the union of the practitioners' hours there, earliest first."""

    weekday: int
    spans: tuple[tuple[time, time], ...]

    @property
    def day(self) -> str:
        return WEEKDAYS[self.weekday]


@dataclass(frozen=True)
class LocationPage:
    location: Location
    practitioners: list[StaffMember]
    treatments: list[str]
    opening: list[Opening]
    closed: list[tuple[date, str]]


def works_at(staff: StaffMember, location: Location) -> bool:
    return any(p.pk == location.pk for p in places(staff))


def public_location_ids(people=None) -> set[int]:
    """The ids of the locations with a page: of clinics with the portal on, where someone listed
    works. `people`: the listed practitioners when the caller already has them."""
    people = listed() if people is None else people
    enabled: dict[int, bool] = {}
    ids: set[int] = set()
    for staff in people:
        if staff.clinic_id not in enabled:
            enabled[staff.clinic_id] = portal_enabled(staff.clinic)
        if enabled[staff.clinic_id]:
            ids.update(p.pk for p in places(staff))
    return ids


def listed_at(location: Location) -> list[StaffMember]:
    """The listed practitioners who work at `location`."""
    people = listed().filter(clinic_id=location.clinic_id)
    return [p for p in people if works_at(p, location)]


def _opening(staff: list[StaffMember], location: Location) -> list[Opening]:
    rows = WorkingHours.objects.filter(staff__in=staff).filter(
        Q(location=location) | Q(location__isnull=True)
    )
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in rows.values_list("weekday", "start", "end"):
        by_day.setdefault(weekday, []).append((start, end))
    opening = []
    for weekday in sorted(by_day):
        merged: list[tuple[time, time]] = []
        for start, end in sorted(by_day[weekday]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        opening.append(Opening(weekday, tuple(merged)))
    return opening


def public_location(pk: int) -> Location | None:
    """Location `pk` when it has a public page."""
    location = Location.objects.select_related("clinic").filter(pk=pk).first()
    if location is None:
        return None
    public = public_location_ids(listed().filter(clinic_id=location.clinic_id))
    return location if location.pk in public else None


def location_page(pk: int, today: date) -> LocationPage | None:
    """What the public page of location `pk` shows, or None when it has no public page."""
    location = public_location(pk)
    if location is None:
        return None
    people = listed_at(location)
    offered = {t for p in people for t in p.treatments or [] if isinstance(t, str)}
    closed = closures.closed_days(
        location.clinic_id, location, today, today + timedelta(days=CLOSURES_AHEAD_DAYS)
    )
    return LocationPage(
        location=location,
        practitioners=people,
        treatments=[name for key, name in MODALITIES if key in offered],
        opening=_opening(people, location),
        closed=sorted(closed.items()),
    )
