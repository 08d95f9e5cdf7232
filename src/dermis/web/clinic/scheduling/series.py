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

from django.db import connections, router, transaction
from django.utils import timezone

from dermis.core import gate, slots
from dermis.core.errors import InputError
from dermis.core.planning import Course, Plan
from dermis.web.clinic import safety
from dermis.web.clinic.actors import ANY_STAFF, CLINICAL, PATIENT, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.errors import conflict
from dermis.web.clinic.models import (
    ATTENDED_STATUSES,
    OPEN_STATUSES,
    Appointment,
    Equipment,
    Location,
    Room,
    StaffMember,
    TreatmentPlan,
    TreatmentSession,
    WorkingHours,
)
from dermis.web.clinic.prepared import PreparedRows, PreparedValues
from dermis.web.clinic.scheduling import availability, versions
from dermis.web.clinic.scheduling.booking import Booking, SlotTaken, book_series
from dermis.web.clinic.together import Read, read_together

ALTERNATIVES = 3


class NotBookable(Exception):
    """The plan (or course) cannot be booked: superseded, not safe, or nothing left to book."""


class SeriesChanged(Exception):
    """The calendar changed since the proposal or preview was shown; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


# --- Plan content -> the core's course ----------------------------------------------------------


def not_bookable(plan: TreatmentPlan) -> str:
    """Why this plan version cannot be booked ('' when it can)."""
    if plan.status != TreatmentPlan.Status.ACTIVE:
        return f"version {plan.version} of the plan is {plan.get_status_display().lower()}"
    if plan.content.get("status") == "not_safe":
        return "the plan found no safe treatment: there is nothing to book"
    if not [c for c in Plan.from_dict(plan.content).courses if c.treatments]:
        return "the plan has no course of treatment"
    return ""


def lineage(plan: TreatmentPlan) -> set[int]:
    """This version's id and its predecessors': sessions booked on an earlier version count."""
    ids, current = set(), plan
    while current is not None and current.pk not in ids:
        ids.add(current.pk)
        current = current.previous
    return ids


# What a course's sessions so far are counted from: composed once per process (prepared.py).
BOOKED_OF_PLANS = PreparedValues(
    Appointment,
    lambda plans: Appointment.objects.filter(
        plan_id__in=plans,
        kind=Appointment.Kind.TREATMENT,
        status__in=(*OPEN_STATUSES, *ATTENDED_STATUSES),
    ).values_list("pk", "start", "equipment__device"),
    plans=list,
)
# Every signed session of the plans, whatever its modality: a course's are chosen here, so that
# the read is the same for every course (and can go ahead of the form that chooses it).
CHARTED_OF_PLANS = PreparedValues(
    TreatmentSession,
    lambda plans: (
        TreatmentSession.objects.filter(plan_id__in=plans, status=TreatmentSession.Status.FINAL)
        .order_by("performed_at", "pk")
        .values_list("performed_at", "appointment_id", "modality")
    ),
    plans=list,
)


def sessions_so_far(plan: TreatmentPlan, course: Course, courses: int) -> tuple[int, date | None]:
    """(sessions of this course done or booked, the date of the last one)."""
    kb = knowledge()
    versions = lineage(plan)
    counted: list[date] = []
    seen: set[int] = set()
    for pk, start, device_key in BOOKED_OF_PLANS.rows(plans=list(versions)):
        device = kb.devices.get(device_key) if device_key else None
        # Without a device the appointment belongs to the plan's only course, if it has one.
        modality = device.modality if device else (course.modality if courses == 1 else None)
        if modality == course.modality:
            seen.add(pk)
            counted.append(timezone.localtime(start).date())
    # A charted booked visit is one session, not two.
    counted += [
        timezone.localtime(at).date()
        for at, appointment, modality in CHARTED_OF_PLANS.rows(plans=list(versions))
        if modality == course.modality and (appointment is None or appointment not in seen)
    ]
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
    precare_done: bool = False  # a practitioner recorded that pre-care is done

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
    hours: dict[int, slots.WorkingHours] | None = None  # the practitioner's, as setup read them
    # The clinic's schedule version, read before everything above (None inside a transaction):
    # what the proposal is kept by (`propose`).
    version: int | None = None

    def calendar(self, first: date, last: date, *, fresh: bool = True) -> slots.Availability:
        """`fresh=False` (a proposal) reuses the working hours setup read; booking reads them
        again inside its transaction."""
        start, end = availability.window_for(first, last)
        return availability.build(
            [self.prefs.practitioner],
            start,
            end,
            rooms=self.rooms,
            equipment=self.equipment,
            location=self.prefs.location,
            hours=None if fresh else self.hours,
        )


# Read for every proposal: composed once per process (clinic/prepared.py).
ROOMS_AT = PreparedRows(
    Room,
    lambda clinic, location: Room.objects.filter(clinic_id=clinic, location_id=location),
    clinic=int,
    location=int,
)


def clinic_equipment(clinic, devices: set[str]) -> tuple[Equipment, ...]:
    """The clinic's equipment of these kinds of device, in the equipment's order (a clinic has a
    handful: read whole and chosen here, so the query is the same whatever the devices)."""
    return tuple(e for e in availability.equipment_of(clinic) if e.device in devices)


def usable_rooms(clinic, who: StaffMember, where: Location | None) -> tuple[Room, ...]:
    """The rooms a session with `who` can be in: at the chosen location, else at the locations
    of their working hours (any of the clinic's when some hours name no location). Only these
    rooms' busy times are read."""
    if where is not None:
        found = ROOMS_AT.rows(None, clinic=clinic.pk, location=where.pk, known={"clinic": clinic})
        return tuple(found)
    rooms = Room.objects.filter(clinic=clinic)
    places = set(WorkingHours.objects.filter(staff=who).values_list("location_id", flat=True))
    if places and None not in places:
        rooms = rooms.filter(location_id__in=places)
    return tuple(rooms)


def setup(plan: TreatmentPlan, prefs: Preferences, now: datetime) -> Setup:
    """The slot finder's request for the sessions of the chosen course still to book.

    Raises NotBookable, or InputError naming the field (practitioner, course, earliest)."""
    with read_together(*_setup_reads(plan, prefs)):
        return _setup(plan, prefs, now)


def _setup_reads(plan: TreatmentPlan, prefs: Preferences) -> list[Read | None]:
    where = prefs.location.pk if prefs.location is not None else None
    return reads(plan, prefs.practitioner.pk, where)


def reads(plan: TreatmentPlan, practitioner: int, location: int | None) -> list[Read | None]:
    """What `setup` reads for a proposal with this practitioner at this location, to be sent
    together: the course's bookings and signed sessions so far, the practitioner's hours, the
    rooms at the location, the clinic's equipment and the safety gate's view of the patient.

    A page may send them with its own reads, from the ids as submitted, before its form has
    checked them: a read the form then refuses is only read, never used."""
    clinic = plan.patient.clinic_id
    plans = list(lineage(plan))
    if location is None:
        hours = availability.HOURS.ahead(staff=[practitioner])
    else:
        hours = availability.HOURS_AT.ahead(staff=[practitioner], location=location)
    return [
        # First: a proposal is never kept under a version newer than the rows it was drawn from.
        versions.VERSION.ahead(clinic=clinic),
        BOOKED_OF_PLANS.ahead(plans=plans),
        CHARTED_OF_PLANS.ahead(plans=plans),
        hours,
        None if location is None else ROOMS_AT.ahead(None, clinic=clinic, location=location),
        availability.EQUIPMENT.ahead(None, clinic=clinic),
        *safety.context_reads(plan.patient),
    ]


def _setup(plan: TreatmentPlan, prefs: Preferences, now: datetime) -> Setup:
    kept = not connections[router.db_for_read(Appointment)].in_atomic_block
    version = versions.schedule_version(plan.patient.clinic_id) if kept else None
    if reason := not_bookable(plan):
        raise NotBookable(reason)
    courses = [c for c in Plan.from_dict(plan.content).courses if c.treatments]
    if not 0 <= prefs.course < len(courses):
        raise InputError("course", "choose one of the plan's courses")
    course = courses[prefs.course]
    counted, last = sessions_so_far(plan, course, len(courses))
    remaining = course.sessions - counted
    if remaining <= 0:
        raise NotBookable("every session of this course is already done or booked")
    who, where = prefs.practitioner, prefs.location
    hours = availability.weekly_hours([who.pk], where)
    if not hours:
        at = f" at {where.name}" if where else ""
        raise InputError(
            "practitioner",
            f"{who.display_name} has no working hours{at}: an admin can add them on the "
            "availability page",
        )
    rooms = usable_rooms(plan.patient.clinic, who, where)
    devices = {t.device for t in course.treatments}
    equipment = clinic_equipment(plan.patient.clinic, devices)
    notes: list[str] = []
    if not equipment:
        names = ", ".join(sorted(devices)).replace("_", " ")
        notes.append(f"No {names} is registered, so devices are not checked for clashes.")
    kb = knowledge()
    today = timezone.localtime(now).date()
    earliest = max(today, prefs.earliest or today, course.earliest_start)
    # The patient's record, read once for the gate's questions below.
    ctx = safety.context(plan.patient, precare_done=prefs.precare_done)
    first = safety.first_safe_day(plan.patient, course.modality, course.areas, earliest, ctx=ctx)
    if first is None:
        raise NotBookable(
            safety.why_not(plan.patient, course.modality, course.areas, earliest, ctx=ctx)
        )
    if first > earliest:
        notes.append(
            f"The first session can be from {first:%d %b %Y}: "
            + safety.why_not(plan.patient, course.modality, course.areas, earliest, ctx=ctx)
        )
    earliest = first
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
        plan,
        prefs,
        course,
        course.sessions,
        counted,
        rooms,
        equipment,
        request,
        tuple(notes),
        hours,
        version,
    )


def propose(s: Setup, alternatives: int = ALTERNATIVES) -> slots.SeriesResult:
    """The best series and alternatives (or none, and why).

    Kept in the shared cache by the clinic's schedule version, which setup read before its rows
    (`versions.kept_value`), and by what else the search is asked: the request (the course, the
    sessions still to book, the preferences, the first safe day, the rooms and devices) with its
    `not_before` rounded up to the moment the search stays the same until
    (`slots.same_search_until`), and the location (its closed days). Asked again as a form is
    changed back or a page reloaded, the search is not run again."""

    keep = kept_by(s, alternatives)
    until = keep[1] if keep else None

    def draw() -> tuple[slots.SeriesResult, datetime | None]:
        calendar = s.calendar(s.request.earliest_start, s.request.last_date, fresh=False)
        return slots.find_series(calendar, s.request, alternatives), until

    if keep is None:
        return draw()[0]
    clinic = s.plan.patient.clinic_id
    now = s.request.not_before
    return versions.kept_value("series", clinic, keep[0], now, draw, version=s.version)


def kept_by(s: Setup, alternatives: int = ALTERNATIVES) -> tuple[tuple, datetime] | None:
    """What a proposal is kept by (with the clinic's schedule version), and the moment it stops
    being right; None where nothing is kept (inside a transaction)."""
    request = s.request
    if s.version is None or request.not_before is None:
        return None
    until = slots.same_search_until(
        availability.clinic_zone(), request.not_before, request.granularity_minutes
    )
    where = s.prefs.location.pk if s.prefs.location is not None else None
    return (dataclasses.replace(request, not_before=until), alternatives, where), until


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


def book(
    actor: Actor, s: Setup, chosen: list[slots.Slot], now: datetime, *, remember: bool = False
) -> list[Appointment]:
    """Book the chosen series, its reminders and its confirmation, all or nothing, after the
    booking rules and the safety gate for every session. `remember`: keep the preferences.

    Raises SeriesChanged (a time is no longer free or no longer fits) or ServiceError (the gate,
    409 slot taken)."""
    actor.require((*ANY_STAFF, PATIENT), "booking")
    actor.own(s.plan, "plan")
    actor.require_self(s.plan.patient)  # a patient books their own plan's sessions only
    if s.prefs.precare_done:
        actor.require(CLINICAL, "recording pre-care")
    rooms = {r.pk: r for r in s.rooms}
    equipment = {e.pk: e for e in s.equipment}
    patient = s.plan.patient
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
        for i, day in enumerate(days):
            act = gate.Act(gate.ActKind.BOOK, s.course.modality, day, s.course.areas)
            safety.check(
                actor, patient, act, precare_done=s.prefs.precare_done, field_prefix=f"start[{i}]."
            )
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
        fields = {"modality": s.course.modality, "precare_confirmed": s.prefs.precare_done}
        try:
            made = book_series(patient, bookings, plan=s.plan, remind=True, fields=fields)
        except SlotTaken as exc:
            raise conflict("start", str(exc), code="slot-taken") from None
        if remember:
            patient.booking_preferences = s.prefs.for_patient()
            patient.save(update_fields=["booking_preferences"])
            record(actor, Action.UPDATE, patient, summary="booking preferences")
        for a in made:
            record(
                actor, Action.CREATE, a, summary=f"series session {a.series_index} of {len(made)}"
            )
    return made
