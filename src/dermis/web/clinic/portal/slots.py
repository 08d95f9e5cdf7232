"""Free consultation times for the public booking pages (a practitioner's, a location's), from
the slot finder."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from django.utils import timezone

from dermis.core import slots
from dermis.core.errors import InputError
from dermis.web.clinic.directory.selectors import places
from dermis.web.clinic.models import Location, StaffMember
from dermis.web.clinic.scheduling import availability

DAYS_AHEAD = 42
PER_PLACE = 6


@dataclasses.dataclass(frozen=True)
class Offer:
    location: Location | None
    start: datetime
    # Set on the offers of a location's page, which span its practitioners.
    practitioner: StaffMember | None = None

    @property
    def value(self) -> str:
        value = f"{self.location.pk if self.location else 0}|{self.start.isoformat()}"
        return f"{self.practitioner.pk}|{value}" if self.practitioner else value


def _starts(
    practitioner: StaffMember, place: Location | None, now: datetime, minutes: int
) -> list[datetime]:
    """Up to PER_PLACE free starts on different days for `practitioner` at `place`, from
    tomorrow, within DAYS_AHEAD days."""
    today = timezone.localtime(now).date()
    first, last = today + timedelta(days=1), today + timedelta(days=DAYS_AHEAD)
    start, end = availability.window_for(first, last)
    calendar = availability.build([practitioner], start, end, location=place)
    request = slots.SeriesRequest(
        practitioner=availability.resource(practitioner),
        sessions=1,
        duration_minutes=minutes,
        min_interval_days=1,
        max_interval_days=1,
        earliest_start=first,
        latest_date=last,
        granularity_minutes=30,
        not_before=now,
    )
    try:
        result = slots.find_series(calendar, request, alternatives=PER_PLACE - 1)
    except InputError:  # no working hours here
        return []
    if result.proposal is None:
        return []
    return [proposal.slots[0].start for proposal in (result.proposal, *result.alternatives)]


def offers(practitioner: StaffMember, now: datetime, minutes: int) -> list[Offer]:
    """Up to PER_PLACE free starts on different days at each place the practitioner works, from
    tomorrow, within DAYS_AHEAD days."""
    found = [
        Offer(place, start)
        for place in places(practitioner) or [None]
        for start in _starts(practitioner, place, now, minutes)
    ]
    return sorted(found, key=lambda o: (o.start, o.location.pk if o.location else 0))


def offers_at(
    location: Location, practitioners: list[StaffMember], now: datetime, minutes: int
) -> list[Offer]:
    """Free starts at `location` of each of `practitioners` (up to PER_PLACE each), soonest
    first; each offer names its practitioner."""
    found = [
        Offer(location, start, practitioner)
        for practitioner in practitioners
        for start in _starts(practitioner, location, now, minutes)
    ]
    return sorted(found, key=lambda o: (o.start, o.practitioner.display_name, o.practitioner.pk))


def parse(value: str, practitioner: StaffMember) -> tuple[Location | None, datetime] | None:
    """The place and start of a chosen offer (None when the value is not one)."""
    pk, _, iso = (value or "").partition("|")
    try:
        start = datetime.fromisoformat(iso)
        pk_int = int(pk)
    except ValueError:
        return None
    if timezone.is_naive(start):
        return None
    if pk_int == 0:
        return None, start
    location = next((p for p in places(practitioner) if p.pk == pk_int), None)
    return (location, start) if location is not None else None


def parse_at(
    value: str, location: Location, practitioners: list[StaffMember]
) -> tuple[StaffMember, datetime] | None:
    """The practitioner and start of a chosen offer at `location` (None when the value is not an
    offer there of one of `practitioners`)."""
    pk, _, rest = (value or "").partition("|")
    practitioner = next((p for p in practitioners if str(p.pk) == pk), None)
    chosen = parse(rest, practitioner) if practitioner is not None else None
    if chosen is None or chosen[0] is None or chosen[0].pk != location.pk:
        return None
    return practitioner, chosen[1]
