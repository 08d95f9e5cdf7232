"""The diary as the page shows it: a day or a week, one column per practitioner (or room), for one
location or all, on a grid of 15-minute rows.

Reads only; a fixed number of queries whatever the number of appointments (staff, locations,
working hours, time off, closures, rooms, and the appointments of the days shown with their
patients): the page's cost grows with what it shows, never with the size of the diary.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q

from dermis.web.clinic.models import (
    LONGEST_APPOINTMENT,
    OPEN_STATUSES,
    Appointment,
    Clinic,
    Location,
    Room,
    StaffMember,
    overlapping,
)
from dermis.web.clinic.prepared import PreparedValues
from dermis.web.clinic.scheduling import availability, closures, lifecycle
from dermis.web.clinic.scheduling.availability import clinic_zone, local_midnight
from dermis.web.clinic.together import read_together

STEP = 15  # minutes a row stands for
DEFAULT_HOURS = (time(8), time(18))
SLOT_EVERY = 30  # minutes between the empty slots offered for booking
COLUMNS_PER_PAGE = 8  # practitioners (or rooms) side by side; more are on the next page
SHOWN = (
    "pk", "kind", "status", "modality", "start", "end", "room_id", "practitioner_id",
    "patient__given_name", "patient__family_name", "practitioner__display_name",
)  # fmt: skip


# The diary as it opens (practitioners' columns, every location): composed once per process
# (clinic/prepared.py), as `build` reads it otherwise.
SHOWN_OF_STAFF = PreparedValues(
    Appointment,
    lambda clinic, staff, start, end, earliest: (
        Appointment.objects.filter(
            overlapping(start, end, earliest), clinic_id=clinic, practitioner_id__in=staff
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .order_by("start")
        .values_list(*SHOWN)
    ),
    clinic=int,
    staff=list,
    start=datetime,
    end=datetime,
    earliest=datetime,
)


@dataclass(slots=True)
class Shown:
    """What the grid says of an appointment, read as one query's columns (`SHOWN`): a busy week
    holds hundreds, and a model with its patient and practitioner costs three objects each."""

    pk: int
    kind: str
    status: str
    modality: str
    start: datetime
    end: datetime
    room_id: int | None
    practitioner_id: int
    given_name: str
    family_name: str
    practitioner_name: str

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def patient_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass
class Block:
    """Something on the grid: its rows (1 = the first row under the heading) and what it is."""

    row: int
    span: int
    label: str = ""
    appointment: Shown | None = None
    needs_outcome: bool = False
    start: datetime | None = None
    url: str = ""
    move_url: str = ""


@dataclass
class Column:
    key: int | None  # the practitioner's or room's id (None: appointments without a room)
    title: str
    number: int  # its grid column (2 = the first after the times)
    hours: list[Block] = field(default_factory=list)
    away: list[Block] = field(default_factory=list)
    appointments: list[Block] = field(default_factory=list)
    slots: list[Block] = field(default_factory=list)


@dataclass
class Day:
    day: date
    closed: str  # why nothing may be booked, or ""
    columns: list[Column]
    html: str = ""  # the grid, written by the page


@dataclass
class Diary:
    first: date
    days: list[Day]
    times: list[tuple[int, str]]  # (row, "09:00") for each hour
    rows: int
    view: str
    by: str
    location: Location | None
    locations: list[Location]
    practitioners: list[StaffMember]
    appointment_count: int
    column_page: int = 1  # which COLUMNS_PER_PAGE practitioners (or rooms) the page shows
    column_pages: int = 1
    column_total: int = 0
    # The first moment after `now` at which the page would say something else with nothing
    # written meanwhile (a slot passing, an appointment starting or ending); None: never.
    changes_at: datetime | None = None


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _range(hours: list[tuple[time, time]], appts: list[Shown]) -> tuple[int, int]:
    """First and last minute of the day the grid shows: working hours and appointments, whole
    hours."""
    zone = clinic_zone()
    starts = [_minutes(s) for s, _ in hours] + [
        _minutes(a.start.astimezone(zone).time()) for a in appts
    ]
    ends = [_minutes(e) or 24 * 60 for _, e in hours] + [
        _minutes(a.end.astimezone(zone).time()) or 24 * 60 for a in appts
    ]
    low = min(starts, default=_minutes(DEFAULT_HOURS[0]))
    high = max(ends, default=_minutes(DEFAULT_HOURS[1]))
    return (low // 60) * 60, min(24 * 60, -(-high // 60) * 60)


def _practitioners(clinic: Clinic, location: Location | None, only: int | None):
    if location is None and not only:  # the diary as it opens
        return availability.treating_staff(clinic)
    rows = StaffMember.objects.filter(clinic=clinic, role__in=availability.TREATING_ROLES)
    if location is not None:
        rows = rows.filter(
            Q(locations=location) | Q(locations__isnull=True) | Q(working_hours__location=location)
        ).distinct()
    if only:
        rows = rows.filter(pk=only)
    return list(rows.order_by("display_name"))


def _grid_reads(clinic: int, by: str, location, staff: list, start, end, days: list) -> list:
    """The reads `build` makes of the diary as it opens (every location, by practitioner)."""
    if by != "practitioner" or location is not None:
        return []
    return [
        SHOWN_OF_STAFF.ahead(
            clinic=clinic, staff=staff, start=start, end=end, earliest=start - LONGEST_APPOINTMENT
        ),
        availability.HOURS.ahead(staff=staff),
        availability.AWAY.ahead(staff=staff, start=start, end=end),
        closures.CLOSED_ANYWHERE.ahead(clinic=clinic, first=days[0], last=days[-1]),
    ]


def _page_of(items: list, page: int) -> tuple[list, int, int]:
    """The `page`th COLUMNS_PER_PAGE of `items` (1-based, kept in range), the page and the pages."""
    pages = max(1, -(-len(items) // COLUMNS_PER_PAGE))
    page = min(max(1, page), pages)
    return items[(page - 1) * COLUMNS_PER_PAGE : page * COLUMNS_PER_PAGE], page, pages


def build(
    clinic: Clinic,
    first: date,
    *,
    view: str = "day",
    by: str = "practitioner",
    location: Location | None = None,
    practitioner: int | None = None,
    columns_page: int = 1,
    now: datetime,
) -> Diary:
    days = [first + timedelta(days=i) for i in range(7 if view == "week" else 1)]
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    opening = location is None and not practitioner  # the diary as it opens
    with read_together(*availability.menu_reads(clinic) if opening else ()):
        locations = availability.clinic_locations(clinic)
        staff = _practitioners(clinic, location, practitioner)
    column_total = len(staff)
    if by == "practitioner":
        # A clinic of many practitioners is shown a page of columns at a time, so the page stays
        # one size however large the clinic grows.
        staff, columns_page, column_pages = _page_of(staff, columns_page)
    staff_ids = [s.pk for s in staff]
    # What the grid shows (its appointments, hours, time off and closed days), read together.
    with read_together(*_grid_reads(clinic.pk, by, location, staff_ids, start, end, days)):
        rooms: list[Room] = []
        last_page = True
        if by == "practitioner" and location is None:
            # The diary as it opens, every location: composed once per process.
            rows = SHOWN_OF_STAFF.rows(
                clinic=clinic.pk,
                staff=staff_ids,
                start=start,
                end=end,
                earliest=start - LONGEST_APPOINTMENT,
            )
        else:
            found = Appointment.objects.filter(overlapping(start, end), clinic=clinic).exclude(
                status=Appointment.Status.CANCELLED
            )
            if location is not None:
                found = found.filter(Q(location=location) | Q(location__isnull=True))
            if by == "room":
                rooms = list(
                    Room.objects.filter(
                        clinic=clinic, **({"location": location} if location else {})
                    )
                )
                column_total = len(rooms)
                rooms, columns_page, column_pages = _page_of(rooms, columns_page)
                last_page = columns_page == column_pages  # "No room" comes last
                found = found.filter(
                    Q(room__in=rooms) | (Q(room__isnull=True) if last_page else Q())
                )
            else:
                found = found.filter(practitioner_id__in=staff_ids)
            rows = found.order_by("start").values_list(*SHOWN)
        # Only what the grid shows: a busy week holds thousands of rows.
        appts = [Shown(*row) for row in rows]
        if location is None:
            hours_rows = availability.HOURS.rows(staff=staff_ids)
        else:
            hours_rows = availability.HOURS_AT.rows(staff=staff_ids, location=location.pk)
        weekly: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        for sid, wd, s, e in hours_rows:
            weekly[sid][wd].append((s, e))
        away: dict[int, list] = defaultdict(list)
        for sid, s, e in availability.AWAY.rows(staff=staff_ids, start=start, end=end):
            away[sid].append((s, e))
        closed = closures.closed_by_location(clinic.pk, locations, days[0], days[-1])
    closed_here = closed.get(location.pk if location else None, {})

    all_hours = [h for by_day in weekly.values() for windows in by_day.values() for h in windows]
    low, high = _range(all_hours if by == "practitioner" else [], appts)
    rows = (high - low) // STEP
    zone = clinic_zone()

    def row_of(moment: datetime, day: date) -> int:
        local = moment.astimezone(zone)
        minutes = (local.date() - day).days * 24 * 60 + _minutes(local.time())
        return max(1, min(rows + 1, (minutes - low) // STEP + 1))

    def span(a: datetime, b: datetime, day: date) -> tuple[int, int]:
        r1, r2 = row_of(a, day), row_of(b - timedelta(seconds=1), day) + 1
        return r1, max(1, r2 - r1)

    by_col: dict[tuple[date, int | None], list[Shown]] = defaultdict(list)
    for a in appts:
        d = a.start.astimezone(zone).date()
        by_col[(d, a.room_id if by == "room" else a.practitioner_id)].append(a)

    out_days, changes = [], []
    for day in days:
        why_closed = closed_here.get(day, "")
        day_ends = local_midnight(day + timedelta(days=1))
        columns = []
        heads = (
            [(s.pk, s.display_name) for s in staff]
            if by == "practitioner"
            else [(r.pk, r.name) for r in rooms] + ([(None, "No room")] if last_page else [])
        )
        for i, (key, title) in enumerate(heads):
            col = Column(key, title, i + 2)
            for a in by_col.get((day, key), ()):
                if a.is_open:  # its move link goes as it starts, its outcome is due as it ends
                    changes += [t for t in (a.start, a.end) if t > now]
                r, n = span(a.start, min(a.end, day_ends), day)
                col.appointments.append(
                    Block(r, n, appointment=a, needs_outcome=lifecycle.needs_outcome(a, now))
                )
            windows = weekly.get(key, {}).get(day.weekday(), []) if by == "practitioner" else []
            for s, e in windows:
                s_at = datetime.combine(day, s, tzinfo=zone)
                e_at = datetime.combine(day, e, tzinfo=zone) if _minutes(e) else day_ends
                r, n = span(s_at, e_at, day)
                col.hours.append(Block(r, n))
                if not why_closed:
                    first = _offer(col, s_at, e_at, day, row_of, now, away.get(key, ()))
                    if first is not None:  # shown until it starts
                        changes.append(first)
            if by == "practitioner":
                for s, e in away.get(key, ()):
                    s, e = max(s, local_midnight(day)), min(e, day_ends)
                    if s < e:
                        r, n = span(s, e, day)
                        col.away.append(Block(r, n, "Away"))
            columns.append(col)
        if by == "room" and last_page and not columns[-1].appointments:
            columns.pop()
        out_days.append(Day(day, why_closed, columns))
    times = [(((m - low) // STEP) + 1, f"{m // 60:02d}:00") for m in range(low, high, 60)]
    return Diary(
        first=days[0],
        days=out_days,
        times=times,
        rows=rows,
        view=view,
        by=by,
        location=location,
        locations=locations,
        practitioners=staff,
        appointment_count=len(appts),
        column_page=columns_page,
        column_pages=column_pages,
        column_total=column_total,
        changes_at=min(changes, default=None),
    )


def _offer(col: Column, s_at, e_at, day, row_of, now, away) -> datetime | None:
    """Empty slots to click within a working window: every half hour from now on, not away and
    not under an appointment already listed for this column (the booking service decides).
    Gives the first slot's start (None: no slot)."""
    taken = [(b.appointment.start, b.appointment.end) for b in col.appointments]
    starts = free_starts(s_at, e_at, now, [*taken, *away])
    for at in starts:
        col.slots.append(Block(row_of(at, day), SLOT_EVERY // STEP, start=at))
    return starts[0] if starts else None


def free_starts(s_at: datetime, e_at: datetime, now: datetime, busy: list) -> list[datetime]:
    """Every SLOT_EVERY minutes from `s_at` while before `e_at`, from `now` on: the starts of the
    slots that no (start, end) of `busy` overlaps. One pass over the busy times in order of
    start, where asking each of them at every slot grew with a column's bookings."""
    ordered = sorted(busy)
    step, out, j = timedelta(minutes=SLOT_EVERY), [], 0
    at = s_at
    while at < e_at:
        nxt = at + step
        while j < len(ordered) and ordered[j][1] <= at:
            j += 1  # over before this slot, so before every later one too
        # The first busy time not over yet starts earliest of those left: none overlaps the slot
        # unless it does. (One skipped further on ends before it, whichever slot asks.)
        if at >= now and not (j < len(ordered) and ordered[j][0] < nxt):
            out.append(at)
        at = nxt
    return out
