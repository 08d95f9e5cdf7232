"""The recall worklist: who is due for maintenance, whose series is incomplete, whose follow-up is
overdue; and the one-click bookings from it.

Maintenance is due on the day the outcome forecast says the patient's typical improvement falls
below noticeable (`forecasting.below_noticeable_on`); where there is no such forecast, the knowledge
base's maintenance cadence counts from the last signed session (the protocols' shortest
`maintenance_interval_days` that suits every treatment of the course). A patient with a treatment
or maintenance appointment still ahead is not due: it is booked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from dermis.core import slots
from dermis.core.knowledge.schema import Protocol
from dermis.core.planning import Plan, course_protocols, interval_range, protocol_for
from dermis.web.clinic import safety
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.core_inputs import active_plan, knowledge
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import (
    ATTENDED_STATUSES,
    OPEN_STATUSES,
    Appointment,
    Clinic,
    Equipment,
    Location,
    Patient,
    Room,
    StaffMember,
    TreatmentPlan,
    TreatmentSession,
)
from dermis.web.clinic.outcomes import forecasting
from dermis.web.clinic.scheduling import availability, series, services
from dermis.web.clinic.scheduling.booking import Booking

HORIZON_DAYS = 60  # maintenance due within this many days is listed (overdue always is)
LIMIT = 50  # rows per section: the most urgent; a contact logged or a booking moves the next up
PAGE_ROWS = 25  # rows per section on a page of the worklist (`?page=2` for the next)
SEARCH_DAYS = 182  # how far the one-click booking looks for a free slot
AHEAD = (Appointment.Kind.TREATMENT, Appointment.Kind.MAINTENANCE)
# Statuses of an appointment that still holds its time (compared as strings: "confirmed" is the
# diary's, and may not exist yet).
HOLDING = OPEN_STATUSES


@dataclass(frozen=True)
class MaintenanceDue:
    patient: Patient
    due: date
    basis: str  # "forecast" or "cadence"
    why: str
    last_session: TreatmentSession
    minutes: int  # the knowledge base's usual session length for this modality and concern
    forecast: forecasting.PatientForecast | None = None


@dataclass(frozen=True)
class IncompleteSeries:
    patient: Patient
    plan: TreatmentPlan
    course: int
    modality: str
    planned: int
    counted: int
    last: date | None


@dataclass(frozen=True)
class OverdueFollowUp:
    patient: Patient
    appointment: Appointment


@dataclass(frozen=True)
class Worklist:
    maintenance: list[MaintenanceDue]
    incomplete: list[IncompleteSeries]
    follow_ups: list[OverdueFollowUp]


def _protocols(plan: TreatmentPlan | None, modality: str) -> list[Protocol]:
    kb = knowledge()
    course = Plan.from_dict(plan.content).course_for(modality) if plan else None
    return course_protocols(course, kb) if course else [protocol_for(kb, modality, "default")]


def _cadence(protocols: list[Protocol]) -> tuple[int, int, list[str]]:
    """The maintenance interval that suits every protocol (the planner's own intersection)."""
    low, high, _ = interval_range(protocols, "maintenance_interval_days")
    sources = list(dict.fromkeys(s for p in protocols for s in p.sources))
    return low, high, sources


def _has_booking_ahead(patient: Patient, now: datetime) -> bool:
    return patient.appointments.filter(kind__in=AHEAD, status__in=HOLDING, start__gte=now).exists()


def maintenance_for(patient: Patient, today: date, now: datetime) -> MaintenanceDue | None:
    """When the patient is due for maintenance, and why; None while a series is still running or
    something is booked, or without a signed session."""
    if _has_booking_ahead(patient, now):
        return None
    return maintenance_unbooked(patient, today)


def maintenance_unbooked(patient: Patient, today: date) -> MaintenanceDue | None:
    """`maintenance_for` as if nothing were booked (what the stored due dates keep)."""
    last = (
        patient.sessions.filter(status=TreatmentSession.Status.FINAL)
        .select_related("practitioner", "appointment")
        .order_by("-performed_at", "-pk")
        .first()
    )
    if last is None:
        return None
    plan = active_plan(patient)
    if plan is not None and not series.not_bookable(plan):
        courses = [c for c in Plan.from_dict(plan.content).courses if c.treatments]
        for course in courses:
            if course.modality != last.modality:
                continue
            counted, _ = series.sessions_so_far(plan, course, len(courses))
            if counted < course.sessions:
                return None  # still in the series: see the incomplete list
    protocols = _protocols(plan or patient.plans.order_by("-version").first(), last.modality)
    minutes = max(p.session_minutes.max for p in protocols)
    last_day = timezone.localtime(last.performed_at).date()
    result = forecasting.patient_forecast(patient, today)
    falls = result.below_noticeable_on
    if falls is not None and falls > last_day:
        why = f"the typical improvement is forecast to fall below noticeable on {falls:%d %b %Y}"
        return MaintenanceDue(patient, falls, "forecast", why, last, minutes, result)
    low, high, sources = _cadence(protocols)
    why = (
        f"maintenance every {low}-{high} days after the last session, {last_day:%d %b %Y} "
        f"(knowledge base: {', '.join(sources)})"
    )
    due = last_day + timedelta(days=low)
    return MaintenanceDue(patient, due, "cadence", why, last, minutes, result)


def incomplete_for(plan: TreatmentPlan) -> list[IncompleteSeries]:
    if series.not_bookable(plan):
        return []
    courses = [c for c in Plan.from_dict(plan.content).courses if c.treatments]
    out = []
    for i, course in enumerate(courses):
        counted, last = series.sessions_so_far(plan, course, len(courses))
        if counted < course.sessions:
            out.append(
                IncompleteSeries(
                    plan.patient, plan, i, course.modality, course.sessions, counted, last
                )
            )
    return out


def overdue_follow_ups(clinic: Clinic, now: datetime) -> list[OverdueFollowUp]:
    """Follow-ups whose time has passed unattended (still booked, or missed), with none after."""
    follow_up = Appointment.Kind.FOLLOW_UP
    later = Appointment.objects.filter(
        patient=OuterRef("patient"),
        kind=follow_up,
        start__gt=OuterRef("start"),
        status__in=(*OPEN_STATUSES, *ATTENDED_STATUSES),
    )
    rows = (
        Appointment.objects.filter(
            clinic=clinic,
            kind=follow_up,
            end__lt=now,
            status__in=(*OPEN_STATUSES, Appointment.Status.NO_SHOW),
        )
        .filter(~Exists(later))
        .select_related("patient", "practitioner")
        .order_by("start")
    )
    seen, out = set(), []
    for a in rows:
        if a.patient_id not in seen:
            seen.add(a.patient_id)
            out.append(OverdueFollowUp(a.patient, a))
    return out[:LIMIT]


def worklist(clinic: Clinic, today: date, now: datetime, horizon: int = HORIZON_DAYS) -> Worklist:
    """The three sections, each soonest (or most overdue) first."""
    ahead = Appointment.objects.filter(
        patient=OuterRef("pk"), kind__in=AHEAD, status__in=HOLDING, start__gte=now
    )
    patients = (
        Patient.objects.filter(clinic=clinic, sessions__status=TreatmentSession.Status.FINAL)
        .filter(~Exists(ahead))  # booked already: not on the list, and no forecast to run
        .distinct()
        .order_by("family_name", "given_name", "pk")
    )
    until = today + timedelta(days=horizon)
    due = [m for p in patients if (m := maintenance_for(p, today, now)) and m.due <= until]
    due.sort(key=lambda m: (m.due, m.patient.family_name, m.patient.pk))
    plans = TreatmentPlan.objects.filter(
        patient__clinic=clinic, status=TreatmentPlan.Status.ACTIVE
    ).select_related("patient")
    incomplete = [row for plan in plans for row in incomplete_for(plan)]
    incomplete.sort(key=lambda r: (r.last or date.max, r.patient.family_name, r.patient.pk))
    return Worklist(due[:LIMIT], incomplete[:LIMIT], overdue_follow_ups(clinic, now))


# --- One-click booking ---------------------------------------------------------------------------


def first_free(
    practitioner: StaffMember,
    minutes: int,
    earliest: date,
    now: datetime,
    *,
    location: Location | None = None,
    rooms: tuple[Room, ...] = (),
    equipment: tuple[Equipment, ...] = (),
) -> slots.Slot:
    """The first free slot from `earliest` (the slot finder's one-session series)."""
    found = free_slots(
        practitioner, minutes, earliest, now, location=location, rooms=rooms, equipment=equipment
    )
    return found[0]


def free_slots(
    practitioner: StaffMember,
    minutes: int,
    earliest: date,
    now: datetime,
    *,
    location: Location | None = None,
    rooms: tuple[Room, ...] = (),
    equipment: tuple[Equipment, ...] = (),
    count: int = 1,
) -> list[slots.Slot]:
    """The first free slot from `earliest`, then up to `count - 1` more on other days (other
    weekdays first): the slot finder's one-session series and its alternatives."""
    request = slots.SeriesRequest(
        practitioner=availability.resource(practitioner),
        sessions=1,
        duration_minutes=minutes,
        min_interval_days=1,
        max_interval_days=1,
        earliest_start=earliest,
        rooms=tuple(availability.resource(r) for r in rooms),
        devices=tuple(availability.resource(e) for e in equipment),
        not_before=now,
        horizon_days=SEARCH_DAYS,
    )
    if not availability.weekly_hours([practitioner.pk], location):
        raise ServiceError("practitioner", f"{practitioner.display_name} has no working hours")
    start, end = availability.window_for(earliest, request.last_date)
    calendar = availability.build(
        [practitioner], start, end, rooms=rooms, equipment=equipment, location=location
    )
    result = slots.find_series(calendar, request, alternatives=count - 1)
    if result.proposal is None:
        result.best()  # raises the finder's reason
    series_found = [result.proposal, *result.alternatives]
    return sorted((p.slots[0] for p in series_found), key=lambda slot: slot.start)


def place(patient: Patient, location: Location | None) -> tuple[Location | None, tuple]:
    location = location or patient.clinic.locations.order_by("pk").first()
    rooms = tuple(Room.objects.filter(location=location)) if location else ()
    return location, rooms


def book_maintenance(actor: Actor, patient: Patient, today: date, now: datetime) -> Appointment:
    """Book the first free maintenance slot from the due date (or the first day the safety gate
    allows, if later) with the last practitioner, through the booking service.

    Raises ServiceError (not due, not safe, no hours, no free slot, 409 taken)."""
    actor.own(patient, "patient")
    due = maintenance_for(patient, today, now)
    if due is None:
        raise ServiceError("patient", "not due for maintenance, or already booked")
    last = due.last_session
    location, rooms = place(patient, last.appointment.location if last.appointment else None)
    equipment = tuple(Equipment.objects.filter(clinic=patient.clinic, device=last.device))
    modality = (
        knowledge().devices[last.device].modality if last.device in knowledge().devices else ""
    )
    earliest = max(today, due.due)
    if modality:
        safe = safety.first_safe_day(patient, modality, (), earliest)
        if safe is None:
            raise ServiceError("patient", safety.why_not(patient, modality, (), earliest))
        earliest = safe
    slot = first_free(
        last.practitioner,
        due.minutes,
        earliest,
        now,
        location=location,
        rooms=rooms,
        equipment=equipment,
    )
    rooms_by_id = {r.pk: r for r in rooms}
    equipment_by_id = {e.pk: e for e in equipment}
    booking = Booking(
        slot.start,
        slot.end,
        last.practitioner,
        room=rooms_by_id.get(getattr(slot.room, "pk", None)),
        equipment=equipment_by_id.get(getattr(slot.device, "pk", None)),
        location=location,
    )
    return services.book_appointment(
        actor,
        patient,
        practitioner=booking.practitioner,
        start=booking.start,
        end=booking.end,
        kind=Appointment.Kind.MAINTENANCE,
        location=booking.location,
        room=booking.room,
        equipment=booking.equipment,
        plan=active_plan(patient),
        modality=modality,
        now=now,
    )


def book_follow_up(actor: Actor, missed: Appointment, today: date, now: datetime) -> Appointment:
    """Book the first free follow-up like the missed one: same practitioner, place and length."""
    minutes = round((missed.end - missed.start).total_seconds() / 60)
    location, rooms = place(missed.patient, missed.location)
    slot = first_free(
        missed.practitioner,
        minutes,
        today,
        now,
        location=location,
        rooms=rooms if missed.room_id else (),
    )
    room = next((r for r in rooms if r.pk == getattr(slot.room, "pk", None)), None)
    booking = Booking(slot.start, slot.end, missed.practitioner, room=room, location=location)
    return services.book_appointment(
        actor,
        missed.patient,
        practitioner=booking.practitioner,
        start=booking.start,
        end=booking.end,
        kind=Appointment.Kind.FOLLOW_UP,
        location=booking.location,
        room=booking.room,
        plan=missed.plan,
        now=now,
    )
