"""The clinic's calendar as the slot finder sees it: rows -> `dermis.core.slots.Availability`.

Translation only. Working hours of the practitioners asked about (at one location when given), their
time off, and the bookings of those practitioners, rooms and devices that overlap the search window:
only those rows are read, so building an availability costs one query per kind of row whatever the
size of the calendar. A device is busy wherever it is in use, so its bookings at every location
count. A cancelled appointment holds nothing (as in the database's own overlap check).

Resources are `Resource(pk, name)`: equal by primary key, printed by name, so the slot finder's
explanations read "room Treatment 1 is busy until ..." rather than an id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from dermis.core import slots
from dermis.web.clinic.models import (
    Appointment,
    Equipment,
    Location,
    Room,
    StaffMember,
    TimeOff,
    WorkingHours,
    overlapping,
)
from dermis.web.clinic.scheduling import closures


@dataclass(frozen=True)
class Resource:
    """A practitioner, room or device as the slot finder sees it."""

    pk: int
    name: str = field(compare=False)

    def __str__(self) -> str:
        return self.name


def resource(obj: StaffMember | Room | Equipment) -> Resource:
    return Resource(obj.pk, obj.display_name if isinstance(obj, StaffMember) else obj.name)


def clinic_zone() -> ZoneInfo:
    """The clinic's time zone (settings.TIME_ZONE): working hours are local times in it."""
    zone = timezone.get_default_timezone()
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(str(zone))


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clinic_zone())


def weekly_hours(
    staff_ids: Iterable[int], location: Location | None = None
) -> dict[int, slots.WorkingHours]:
    """Each practitioner's weekly hours (at `location`, or rows without a location, when given).

    A practitioner without rows is left out: the slot finder then says they have no hours."""
    rows = WorkingHours.objects.filter(staff_id__in=list(staff_ids))
    if location is not None:
        rows = rows.filter(Q(location=location) | Q(location__isnull=True))
    days: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for staff_id, weekday, start, end in rows.values_list("staff_id", "weekday", "start", "end"):
        days[staff_id][weekday].append((start, end))
    return {staff_id: slots.WorkingHours(dict(by_day)) for staff_id, by_day in days.items()}


def build(
    practitioners: Iterable[StaffMember],
    start: datetime,
    end: datetime,
    *,
    rooms: Iterable[Room] = (),
    equipment: Iterable[Equipment] = (),
    location: Location | None = None,
    exclude: Iterable[int] = (),
    hours: dict[int, slots.WorkingHours] | None = None,
) -> slots.Availability:
    """The availability of these practitioners, rooms and devices between `start` and `end`,
    keyed by `Resource`. `exclude`: appointment ids to leave out (a series being moved);
    `hours`: their `weekly_hours` at `location` when the caller has read them already."""
    who = {p.pk: resource(p) for p in practitioners}
    room_ids = {r.pk: resource(r) for r in rooms}
    device_ids = {e.pk: resource(e) for e in equipment}
    busy_rows = (
        Appointment.objects.filter(
            Q(practitioner_id__in=list(who))
            | Q(room_id__in=list(room_ids))
            | Q(equipment_id__in=list(device_ids)),
            overlapping(start, end),
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .exclude(pk__in=list(exclude))
    )
    # As epoch seconds: a practitioner's months hold hundreds of bookings, and a `slots.Busy`
    # each (checked, frozen) cost more than the rest of the calendar.
    busy: list[tuple[str, Resource, int, int]] = []
    for staff_id, room_id, device_id, s, e in busy_rows.values_list(
        "practitioner_id", "room_id", "equipment_id", "start", "end"
    ):
        s, e = int(s.timestamp()), int(e.timestamp())
        if staff_id in who:
            busy.append(("practitioner", who[staff_id], s, e))
        if room_id in room_ids:
            busy.append(("room", room_ids[room_id], s, e))
        if device_id in device_ids:
            busy.append(("device", device_ids[device_id], s, e))
    off = [
        slots.TimeOff(who[staff_id], s, e)
        for staff_id, s, e in TimeOff.objects.filter(
            staff_id__in=list(who), start__lt=end, end__gt=start
        ).values_list("staff_id", "start", "end")
    ]
    off.extend(_closures(practitioners, who, start, end, location))
    if hours is None:
        hours = weekly_hours(who, location)
    by_resource = {who[pk]: h for pk, h in hours.items() if pk in who}
    return slots.Availability(clinic_zone(), by_resource, (), off, busy_epochs=busy)


def _closures(practitioners, who: dict, start: datetime, end: datetime, location):
    """Closed days (public holidays, the clinic's closures) as everyone's time off."""
    clinic_ids = {p.clinic_id for p in practitioners}
    if len(clinic_ids) != 1:
        return []
    zone = clinic_zone()
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    days = closures.closed_days(clinic_ids.pop(), location, first, last)
    return [
        slots.TimeOff(r, local_midnight(day), local_midnight(day + timedelta(days=1)), why)
        for day, why in sorted(days.items())
        for r in who.values()
    ]


def window_for(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """[local midnight of the first day, local midnight after the last day)."""
    return local_midnight(first_day), local_midnight(last_day + timedelta(days=1))
