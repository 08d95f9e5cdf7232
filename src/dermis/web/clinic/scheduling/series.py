"""Booking a plan's series and moving one of its sessions: the questions put to the slot finder
(`dermis.core.slots`) and the writes (`booking`), each write in one transaction.

A proposal is shown first and booked later, so the booking re-checks it against a fresh calendar
inside the transaction that writes it (`check_series`); the database still refuses any overlap that
slips between the two (`SlotTaken`). Rescheduling does the same with the preview the user saw.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from dermis.core import slots
from dermis.core.errors import InputError
from dermis.core.planning import Course, Decision, Treatment, protocol_for
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.models import (
    Appointment,
    Equipment,
    Location,
    Room,
    StaffMember,
    TreatmentPlan,
    TreatmentSession,
)
from dermis.web.clinic.scheduling import availability
from dermis.web.clinic.scheduling.booking import KEEP, Booking, Move, book_series, move_series

ALTERNATIVES = 3


class NotBookable(Exception):
    """The plan (or course) cannot be booked: superseded, not safe, or nothing left to book."""


class SeriesChanged(Exception):
    """The calendar changed since the proposal or preview was shown; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


# --- Plan content -> the core's course ----------------------------------------------------------


def course_from_content(data: dict) -> Course:
    """A stored course (Course.to_dict(), maybe revised) as the core's Course. Its top-level
    sessions and interval are what a revision set, so they win over the decisions' values."""
    top = {"sessions": data["sessions"], "interval_days": data["interval_days"]}
    decisions = tuple(
        Decision(d["what"], top.get(d["what"], d["value"]), d.get("reason", ""), ())
        for d in data.get("decisions", [])
    )
    treatments = tuple(
        Treatment(
            t["area"],
            t["concern"],
            t.get("severity", 0),
            t.get("severity_band", ""),
            t.get("device", ""),
            t.get("depth_mm"),
            t.get("tip"),
            t.get("sessions", 0),
            (),
        )
        for t in data.get("treatments", [])
    )
    start = date.fromisoformat(data["earliest_start"])
    return Course(data["modality"], start, treatments, decisions, (), ())


def not_bookable(plan: TreatmentPlan) -> str:
    """Why this plan version cannot be booked ('' when it can)."""
    if plan.status != TreatmentPlan.Status.ACTIVE:
        return f"version {plan.version} of the plan is {plan.get_status_display().lower()}"
    if plan.content.get("status") == "not_safe":
        return "the plan found no safe treatment: there is nothing to book"
    if not [c for c in plan.content.get("courses", []) if c.get("treatments")]:
        return "the plan has no course of treatment"
    return ""


def lineage(plan: TreatmentPlan) -> set[int]:
    """This version's id and its predecessors': sessions booked on an earlier version count."""
    ids, current = set(), plan
    while current is not None and current.pk not in ids:
        ids.add(current.pk)
        current = current.previous
    return ids


def sessions_so_far(plan: TreatmentPlan, course: Course, courses: int) -> tuple[int, date | None]:
    """(sessions of this course done or booked, the date of the last one)."""
    kb = knowledge()
    counted: list[date] = []
    seen: set[int] = set()
    appointments = Appointment.objects.filter(
        plan_id__in=lineage(plan),
        kind=Appointment.Kind.TREATMENT,
        status__in=(Appointment.Status.BOOKED, Appointment.Status.DONE),
    ).select_related("equipment")
    for a in appointments:
        device = kb.devices.get(a.equipment.device) if a.equipment else None
        # Without a device the appointment belongs to the plan's only course, if it has one.
        modality = device.modality if device else (course.modality if courses == 1 else None)
        if modality == course.modality:
            seen.add(a.pk)
            counted.append(timezone.localtime(a.start).date())
    charted = TreatmentSession.objects.filter(
        plan_id__in=lineage(plan), status=TreatmentSession.Status.FINAL, modality=course.modality
    ).exclude(appointment_id__in=seen)  # a charted booked visit is one session, not two
    counted += [timezone.localtime(s.performed_at).date() for s in charted]
    return len(counted), max(counted, default=None)


# --- Proposing and booking a series --------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    practitioner: StaffMember
    location: Location | None = None
    weekdays: frozenset[int] = frozenset()
    times: tuple[tuple[time, time], ...] = ()
    earliest: date | None = None
    require: bool = False
    course: int = 0

    def for_patient(self) -> dict:
        """As Patient.booking_preferences."""
        return {
            "weekdays": sorted(self.weekdays),
            "times": [[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in self.times],
            "practitioner": self.practitioner.pk,
        }


@dataclass(frozen=True)
class Setup:
    """Everything a proposal for one course of a plan depends on."""

    plan: TreatmentPlan
    prefs: Preferences
    course: Course
    planned: int
    counted: int
    rooms: tuple[Room, ...]
    equipment: tuple[Equipment, ...]
    request: slots.SeriesRequest
    notes: tuple[str, ...] = ()

    def calendar(self, first: date, last: date) -> slots.Availability:
        start, end = availability.window_for(first, last)
        return availability.build(
            [self.prefs.practitioner],
            start,
            end,
            rooms=self.rooms,
            equipment=self.equipment,
            location=self.prefs.location,
        )


def setup(plan: TreatmentPlan, prefs: Preferences, now: datetime) -> Setup:
    """The slot finder's request for the sessions of the chosen course still to book.

    Raises NotBookable, or InputError naming the field (practitioner, course, earliest)."""
    if reason := not_bookable(plan):
        raise NotBookable(reason)
    courses = [c for c in plan.content["courses"] if c.get("treatments")]
    if not 0 <= prefs.course < len(courses):
        raise InputError("course", "choose one of the plan's courses")
    course = course_from_content(courses[prefs.course])
    counted, last = sessions_so_far(plan, course, len(courses))
    remaining = course.sessions - counted
    if remaining <= 0:
        raise NotBookable("every session of this course is already done or booked")
    who, where = prefs.practitioner, prefs.location
    if not availability.weekly_hours([who.pk], where):
        at = f" at {where.name}" if where else ""
        raise InputError(
            "practitioner",
            f"{who.display_name} has no working hours{at}: an admin can add them on the "
            "availability page",
        )
    rooms = Room.objects.filter(clinic=plan.patient.clinic)
    rooms = tuple(rooms.filter(location=where) if where else rooms)
    devices = {t.device for t in course.treatments}
    equipment = tuple(Equipment.objects.filter(clinic=plan.patient.clinic, device__in=devices))
    notes = []
    if not equipment:
        names = ", ".join(sorted(devices)).replace("_", " ")
        notes.append(f"No {names} is registered, so devices are not checked for clashes.")
    kb = knowledge()
    today = timezone.localtime(now).date()
    earliest = max(today, prefs.earliest or today)
    request = slots.series_request_from_course(
        course,
        kb,
        availability.resource(who),
        rooms=[availability.resource(r) for r in rooms],
        devices=[availability.resource(e) for e in equipment],
        earliest_start=earliest,
        preferred_weekdays=prefs.weekdays,
        preferred_times=prefs.times,
        require_preferences=prefs.require,
        not_before=now,
    )
    if last is not None:
        earliest = max(request.earliest_start, last + timedelta(days=request.min_interval_days))
        notes.append(
            f"{counted} of {course.sessions} sessions are done or booked; the next one is at "
            f"least {request.min_interval_days} days after {last:%d %b %Y}."
        )
    request = dataclasses.replace(request, sessions=remaining, earliest_start=earliest)
    return Setup(
        plan, prefs, course, course.sessions, counted, rooms, equipment, request, tuple(notes)
    )


def propose(s: Setup, alternatives: int = ALTERNATIVES) -> slots.SeriesResult:
    """The best series and alternatives (or none, and why)."""
    calendar = s.calendar(s.request.earliest_start, s.request.last_date)
    return slots.find_series(calendar, s.request, alternatives)


def parse_slots(s: Setup, starts: list[str], rooms: list[str], devices: list[str]) -> list:
    """The posted proposal as core slots; InputError naming the field when it is malformed."""
    if len(starts) != s.request.sessions:
        raise InputError("start", f"choose {s.request.sessions} session times")
    room_ids = {r.pk: availability.resource(r) for r in s.rooms}
    device_ids = {e.pk: availability.resource(e) for e in s.equipment}
    who = availability.resource(s.prefs.practitioner)
    out = []
    length = timedelta(minutes=s.request.duration_minutes)
    zone = availability.clinic_zone()
    for i, text in enumerate(starts):
        try:
            start = datetime.fromisoformat(text)
        except ValueError:
            raise InputError(f"start[{i}]", "is not a date and time") from None
        if start.utcoffset() is None:
            raise InputError(f"start[{i}]", "needs a time zone")
        room = _resource(rooms, i, room_ids, "room")
        device = _resource(devices, i, device_ids, "device")
        start = start.astimezone(zone)
        out.append(slots.Slot(start, start + length, who, room, device))
    return out


def _resource(values: list[str], i: int, allowed: dict, field: str):
    text = values[i] if i < len(values) else ""
    if not allowed:
        return None  # not needed
    if not text.isdigit() or int(text) not in allowed:
        raise InputError(f"{field}[{i}]", f"choose one of the clinic's {field}s for this course")
    return allowed[int(text)]


def book(s: Setup, chosen: list[slots.Slot], now: datetime) -> list[Appointment]:
    """Book the chosen series, its reminders and its confirmation, all or nothing.

    Raises SeriesChanged (a time is no longer free or no longer fits) or SlotTaken."""
    rooms = {r.pk: r for r in s.rooms}
    equipment = {e.pk: e for e in s.equipment}
    with transaction.atomic():
        zone = availability.clinic_zone()
        days = [c.start.astimezone(zone).date() for c in chosen]
        problems = slots.check_series(s.calendar(min(days), max(days)), s.request, chosen)
        if chosen and chosen[0].start <= now:
            problems.insert(0, "session 1 is in the past")
        elif days and days[0] < s.request.earliest_start:
            problems.insert(0, f"session 1 is before {s.request.earliest_start:%d %b %Y}")
        if problems:
            raise SeriesChanged(problems)
        bookings = [
            Booking(
                c.start,
                c.end,
                s.prefs.practitioner,
                room=rooms.get(getattr(c.room, "pk", None)),
                equipment=equipment.get(getattr(c.device, "pk", None)),
                location=s.prefs.location,
            )
            for c in chosen
        ]
        return book_series(s.plan.patient, bookings, plan=s.plan, remind=True)


# --- Moving one session ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What moving one session does to its series: the core's answer and the rows to show."""

    appointment: Appointment
    series: tuple[Appointment, ...]
    index: int
    request: slots.SeriesRequest
    result: slots.Rescheduled
    rooms: dict
    equipment: dict
    broken: tuple[str, ...]  # later intervals the move alone would break

    def moves(self) -> list[Move]:
        if not self.result.ok:
            return []
        out = []
        for k in (self.index, *self.result.moved):
            slot = self.result.slots[k]
            room = self.rooms.get(getattr(slot.room, "pk", None)) if self.request.rooms else KEEP
            device = (
                self.equipment.get(getattr(slot.device, "pk", None))
                if self.request.devices
                else KEEP
            )
            out.append(Move(self.series[k], slot.start, slot.end, room, device))
        return out

    def fingerprint(self) -> str:
        """Identifies these exact moves: what the confirmation must still match."""
        return ";".join(
            f"{m.appointment.pk}@{m.start.isoformat()}/{getattr(m.room, 'pk', '')}"
            f"/{getattr(m.equipment, 'pk', '')}"
            for m in self.moves()
        )

    def rows(self) -> list[dict]:
        moved = {m.appointment.pk: m for m in self.moves()}
        changes = dict(zip(self.result.moved, self.result.changes, strict=True))
        out = []
        for k, a in enumerate(self.series):
            m = moved.get(a.pk)
            why = "the session you are moving" if k == self.index else changes.get(k, "")
            out.append(
                {"number": k + 1, "appointment": a, "new": m.start if m else None, "why": why}
            )
        return out


def _course_for(appointment: Appointment) -> Course | None:
    plan = appointment.plan
    courses = [c for c in (plan.content.get("courses", []) if plan else []) if c.get("treatments")]
    kb = knowledge()
    device = kb.devices.get(appointment.equipment.device) if appointment.equipment else None
    for c in courses:
        if device is None or c["modality"] == device.modality:
            return course_from_content(c)
    return None


def _interval_range(appointment: Appointment) -> tuple[int, int]:
    course = _course_for(appointment)
    if course is None:
        return 1, 366  # no plan to say: the move keeps the order, nothing more
    protocols = [protocol_for(knowledge(), course.modality, t.concern) for t in course.treatments]
    low = max(p.interval_days.min for p in protocols)
    return low, max(low, min(p.interval_days.max for p in protocols))


@dataclass(frozen=True)
class _Moving:
    """A booked series seen from one of its sessions, as the slot finder's request."""

    series: list[Appointment]
    index: int
    request: slots.SeriesRequest
    rooms: dict
    equipment: dict
    booked: list[slots.Slot]

    def calendar(self, first: datetime, last: datetime) -> slots.Availability:
        """Everything busy between `first` and `last` except this series' own bookings."""
        a = self.series[self.index]
        return availability.build(
            [a.practitioner],
            first,
            last,
            rooms=self.rooms.values(),
            equipment=self.equipment.values(),
            location=a.location,
            exclude=[s.pk for s in self.series],
        )


def _moving(appointment: Appointment, now: datetime) -> _Moving:
    series = [appointment]
    if appointment.series_key:
        rows = Appointment.objects.filter(series_key=appointment.series_key).order_by("start")
        series = [
            a
            for a in rows.select_related("room", "equipment", "location", "practitioner")
            if a.status == Appointment.Status.BOOKED
            or (a.status == Appointment.Status.DONE and a.start < appointment.start)
        ]
    index = next(i for i, a in enumerate(series) if a.pk == appointment.pk)
    low, high = _interval_range(appointment)
    rooms = {r.pk: r for r in _rooms(series)}
    equipment = {e.pk: e for e in _devices(appointment)}
    named = {
        **{("room", pk): availability.resource(r) for pk, r in rooms.items()},
        **{("device", pk): availability.resource(e) for pk, e in equipment.items()},
    }
    who = availability.resource(appointment.practitioner)
    request = slots.SeriesRequest(
        practitioner=who,
        sessions=len(series),
        duration_minutes=max(round((a.end - a.start).total_seconds() / 60) for a in series),
        min_interval_days=low,
        max_interval_days=high,
        earliest_start=timezone.localtime(series[0].start).date(),
        rooms=tuple(named["room", pk] for pk in rooms),
        devices=tuple(named["device", pk] for pk in equipment),
        not_before=now,
    )
    zone = availability.clinic_zone()
    booked = [
        slots.Slot(
            a.start.astimezone(zone),
            a.end.astimezone(zone),
            who,
            named.get(("room", a.room_id)),
            named.get(("device", a.equipment_id)),
        )
        for a in series
    ]
    return _Moving(series, index, request, rooms, equipment, booked)


def preview(appointment: Appointment, new_start: datetime, now: datetime) -> Preview:
    """Move `appointment` to `new_start`: which later sessions must shift, and where to."""
    if new_start <= now:
        raise InputError("time", "must be in the future")
    m = _moving(appointment, now)
    req, n = m.request, len(m.series)
    first = min(m.series[0].start, new_start, now) - timedelta(days=1)
    reach = min((n - m.index) * req.max_interval_days, 400) + 2
    calendar = m.calendar(first, max(m.series[-1].start, new_start) + timedelta(days=reach))
    zone = availability.clinic_zone()
    result = slots.reschedule(calendar, req, m.booked, m.index, new_start.astimezone(zone))
    broken = _broken(m.series, m.index, new_start, req.min_interval_days, req.max_interval_days)
    return Preview(appointment, tuple(m.series), m.index, req, result, m.rooms, m.equipment, broken)


def suggestions(appointment: Appointment, now: datetime, count: int = 6) -> list[datetime]:
    """Free starts for this session that keep its interval after the previous one (up to `count`
    days, other weekdays first), from the slot finder."""
    m = _moving(appointment, now)
    req = m.request
    today = timezone.localtime(now).date()
    earliest, latest = today, today + timedelta(days=60)
    if m.index:
        prev = timezone.localtime(m.series[m.index - 1].start).date()
        earliest = max(today, prev + timedelta(days=req.min_interval_days))
        latest = prev + timedelta(days=req.max_interval_days)
    if latest < earliest:
        return []
    one = dataclasses.replace(
        req,
        sessions=1,
        earliest_start=earliest,
        latest_date=latest,
        target_interval_days=None,
        min_interval_days=1,
        max_interval_days=1,
    )
    start, end = availability.window_for(earliest, latest)
    result = slots.find_series(m.calendar(start, end), one, alternatives=count - 1)
    if result.proposal is None:
        return []
    return sorted(p.slots[0].start for p in (result.proposal, *result.alternatives))


def _rooms(series: list[Appointment]) -> list[Room]:
    """The rooms at the locations the series uses, its own first (none if it uses no room)."""
    own = [a.room for a in series if a.room_id]
    others = Room.objects.filter(location_id__in={r.location_id for r in own})
    return list({r.pk: r for r in [*own, *others.order_by("name", "pk")]}.values())


def _devices(appointment: Appointment) -> list[Equipment]:
    """Devices of the same kind as the session's own, its own first (none if it uses none)."""
    if appointment.equipment is None:
        return []
    same = Equipment.objects.filter(
        clinic_id=appointment.clinic_id, device=appointment.equipment.device
    ).order_by("name", "pk")
    return list({e.pk: e for e in [appointment.equipment, *same]}.values())


def _broken(series, index: int, new_start: datetime, low: int, high: int) -> tuple[str, ...]:
    """Later intervals out of range if only this session moved (what the shifts repair)."""
    days = [timezone.localtime(a.start).date() for a in series]
    days[index] = timezone.localtime(new_start).date()
    out = []
    for k in range(index + 1, len(days)):
        gap = (days[k] - days[k - 1]).days
        if not low <= gap <= high:
            out.append(
                f"session {k + 1} would be {gap} days after session {k}; allowed {low}-{high}"
            )
    return tuple(out)


def apply(appointment: Appointment, new_start: datetime, fingerprint: str, now: datetime):
    """Apply the previewed move and shifts, all or nothing, re-timing their reminders.

    Raises SeriesChanged when the calendar no longer gives the previewed result, or SlotTaken."""
    with transaction.atomic():
        fresh = preview(appointment, new_start, now)
        if not fresh.result.ok:
            raise SeriesChanged(list(fresh.result.problems))
        if fresh.fingerprint() != fingerprint:
            raise SeriesChanged(["the calendar changed since the preview: check the new proposal"])
        move_series(fresh.moves(), remind=True)
    return fresh
