"""Free consultation times for the public booking page, from the slot finder."""

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

    @property
    def value(self) -> str:
        return f"{self.location.pk if self.location else 0}|{self.start.isoformat()}"


def offers(practitioner: StaffMember, now: datetime, minutes: int) -> list[Offer]:
    """Up to PER_PLACE free starts on different days at each place the practitioner works, from
    tomorrow, within DAYS_AHEAD days."""
    today = timezone.localtime(now).date()
    first, last = today + timedelta(days=1), today + timedelta(days=DAYS_AHEAD)
    found: list[Offer] = []
    for place in places(practitioner) or [None]:
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
            continue
        if result.proposal is None:
            continue
        for proposal in (result.proposal, *result.alternatives):
            found.append(Offer(place, proposal.slots[0].start))
    return sorted(found, key=lambda o: (o.start, o.location.pk if o.location else 0))


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
