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
    LONGEST_APPOINTMENT,
    Appointment,
    Equipment,
    Location,
    Role,
    Room,
    StaffMember,
    TimeOff,
    WorkingHours,
    overlapping,
)
from dermis.web.clinic.prepared import PreparedRows, PreparedValues
from dermis.web.clinic.scheduling import closures, versions
from dermis.web.clinic.together import Read, read_together


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


# Read for every proposal, booking and availability page: composed once per process
# (clinic/prepared.py).
HOURS_FIELDS = ("staff_id", "weekday", "start", "end")
HOURS = PreparedValues(
    WorkingHours,
    lambda staff: WorkingHours.objects.filter(staff_id__in=staff).values_list(*HOURS_FIELDS),
    staff=list,
)
HOURS_AT = PreparedValues(
    WorkingHours,
    lambda staff, location: WorkingHours.objects.filter(
        Q(location_id=location) | Q(location__isnull=True), staff_id__in=staff
    ).values_list(*HOURS_FIELDS),
    staff=list,
    location=int,
)
BUSY = PreparedValues(
    Appointment,
    lambda staff, rooms, devices, start, end, earliest, exclude: (
        Appointment.objects.filter(
            Q(practitioner_id__in=staff) | Q(room_id__in=rooms) | Q(equipment_id__in=devices),
            overlapping(start, end, earliest),
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .exclude(pk__in=exclude)
        .values_list("practitioner_id", "room_id", "equipment_id", "start", "end")
    ),
    staff=list,
    rooms=list,
    devices=list,
    start=datetime,
    end=datetime,
    earliest=datetime,
    exclude=list,
)
AWAY = PreparedValues(
    TimeOff,
    lambda staff, start, end: TimeOff.objects.filter(
        staff_id__in=staff, start__lt=end, end__gt=start
    ).values_list("staff_id", "start", "end"),
    staff=list,
    start=datetime,
    end=datetime,
)


TREATING_ROLES = (Role.PRACTITIONER, Role.ADMIN)  # staff who treat (an admin may also practise)
TREATING = PreparedRows(
    StaffMember,
    lambda clinic: StaffMember.objects.filter(clinic_id=clinic, role__in=TREATING_ROLES).order_by(
        "display_name"
    ),
    clinic=int,
)
LOCATIONS = PreparedRows(
    Location, lambda clinic: Location.objects.filter(clinic_id=clinic), clinic=int
)


EQUIPMENT = PreparedRows(  # by name (the model's order)
    Equipment, lambda clinic: Equipment.objects.filter(clinic_id=clinic), clinic=int
)
ROOMS = PreparedRows(  # by location, then name (the model's order)
    Room,
    lambda clinic: Room.objects.filter(clinic_id=clinic).select_related("location"),
    clinic=int,
)


def equipment_of(clinic) -> list[Equipment]:
    """The clinic's equipment (composed once per process)."""
    return EQUIPMENT.rows(None, clinic=clinic.pk, known={"clinic": clinic})


def rooms_of(clinic) -> list[Room]:
    """The clinic's rooms with their locations (composed once per process)."""
    return ROOMS.rows(None, clinic=clinic.pk, known={"clinic": clinic})


def treating_staff(clinic) -> list[StaffMember]:
    """The clinic's practitioners and admins by name, as the diary and the availability page
    list them (composed once per process)."""
    return TREATING.rows(None, clinic=clinic.pk, known={"clinic": clinic})


def menu_reads(clinic) -> list[Read | None]:
    """`treating_staff` and `clinic_locations`, for a form with both menus to read together."""
    return [
        TREATING.ahead(None, clinic=clinic.pk),
        LOCATIONS.ahead(None, clinic=clinic.pk),
    ]


def clinic_locations(clinic) -> list[Location]:
    return LOCATIONS.rows(None, clinic=clinic.pk, known={"clinic": clinic})


def hours_read(staff_ids: Iterable[int], location: Location | None = None) -> Read | None:
    """The read `weekly_hours(staff_ids, location)` makes (`prepared.read_together`)."""
    staff = list(staff_ids)
    if location is None:
        return HOURS.ahead(staff=staff)
    return HOURS_AT.ahead(staff=staff, location=location.pk)


def weekly_hours(
    staff_ids: Iterable[int], location: Location | None = None
) -> dict[int, slots.WorkingHours]:
    """Each practitioner's weekly hours (at `location`, or rows without a location, when given).

    A practitioner without rows is left out: the slot finder then says they have no hours."""
    return _hours_from(_hour_rows(list(staff_ids), location))


def _hour_rows(staff: list[int], location: Location | None) -> list:
    if location is None:
        return HOURS.rows(staff=staff)
    return HOURS_AT.rows(staff=staff, location=location.pk)


def _hours_from(rows) -> dict[int, slots.WorkingHours]:
    days: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for staff_id, weekday, start, end in rows:
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
    `hours`: their `weekly_hours` at `location` when the caller has read them already.

    What it reads of the clinic's schedule is kept by the clinic's schedule version
    (`versions.kept_value`): a practitioner's months are hundreds of bookings, read and converted
    in 4–5 ms, and the same search is asked again as preferences change or a page is reloaded.
    Inside a transaction (booking) it is always read."""
    practitioners = list(practitioners)
    who = {p.pk: resource(p) for p in practitioners}
    room_ids = {r.pk: resource(r) for r in rooms}
    device_ids = {e.pk: resource(e) for e in equipment}
    wanted = {
        "staff": list(who),
        "rooms": list(room_ids),
        "devices": list(device_ids),
        "start": start,
        "end": end,
        "earliest": start - LONGEST_APPOINTMENT,
        "exclude": sorted(exclude),
    }
    where = location.pk if location is not None else None

    def read() -> tuple[tuple, None]:
        return _schedule(practitioners, who, room_ids, device_ids, wanted, location), None

    clinics = {p.clinic_id for p in practitioners}
    if len(clinics) == 1:
        parts = (sorted(who), sorted(room_ids), sorted(device_ids), start, end, where)
        parts += (wanted["exclude"],)
        busy, off, hour_rows = versions.kept_value(
            "calendar", clinics.pop(), parts, timezone.now(), read
        )
    else:
        busy, off, hour_rows = read()[0]
    if hours is None:
        hours = _hours_from(hour_rows)
    by_resource = {who[pk]: h for pk, h in hours.items() if pk in who}
    return slots.Availability(clinic_zone(), by_resource, (), off, busy_epochs=busy)


def _schedule(practitioners, who: dict, room_ids: dict, device_ids: dict, wanted: dict, location):
    """What `build` reads of the schedule, as plain data: the busy times (as epoch seconds),
    time off and closed days, and the working hours' rows."""
    start, end = wanted["start"], wanted["end"]
    # The busy times, time off, closed days and hours, in one round trip.
    with read_together(
        BUSY.ahead(**wanted),
        AWAY.ahead(staff=list(who), start=start, end=end),
        _closures_read(practitioners, start, end, location),
        hours_read(who, location),
    ):
        busy_rows = BUSY.rows(**wanted)
        off = [
            slots.TimeOff(who[staff_id], s, e)
            for staff_id, s, e in AWAY.rows(staff=list(who), start=start, end=end)
        ]
        off.extend(_closures(practitioners, who, start, end, location))
        hour_rows = list(_hour_rows(list(who), location))
    # As epoch seconds: a practitioner's months hold hundreds of bookings, and a `slots.Busy`
    # each (checked, frozen) cost more than the rest of the calendar.
    busy: list[tuple[str, Resource, int, int]] = []
    for staff_id, room_id, device_id, s, e in busy_rows:
        s, e = int(s.timestamp()), int(e.timestamp())
        if staff_id in who:
            busy.append(("practitioner", who[staff_id], s, e))
        if room_id in room_ids:
            busy.append(("room", room_ids[room_id], s, e))
        if device_id in device_ids:
            busy.append(("device", device_ids[device_id], s, e))
    return busy, off, hour_rows


def _closures_read(practitioners, start: datetime, end: datetime, location) -> Read | None:
    """The closed days' read `_closures` makes."""
    clinic_ids = {p.clinic_id for p in practitioners}
    if len(clinic_ids) != 1:
        return None
    zone = clinic_zone()
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    return closures.closed_read(clinic_ids.pop(), location, first, last)


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
