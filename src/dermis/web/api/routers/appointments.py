"""Appointments: list with date filters, book through the scheduling services (409 if taken)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache

from django.utils import timezone
from ninja import Query, Router, Status

from dermis.web.api.auth import api_actor, clinic_record, require_staff
from dermis.web.api.errors import field_error
from dermis.web.api.kept import kept_json
from dermis.web.api.schemas import (
    AppointmentCancel,
    AppointmentIn,
    AppointmentMove,
    AppointmentOut,
    AppointmentQuery,
    AppointmentStatusIn,
    Page,
    PathId,
    Problem,
)
from dermis.web.clinic.access import ANY_STAFF, audit
from dermis.web.clinic.models import (
    Appointment,
    AuditEvent,
    Equipment,
    Location,
    Patient,
    Room,
    StaffMember,
)
from dermis.web.clinic.prepared import PreparedCount, PreparedRows
from dermis.web.clinic.scheduling import selectors, services, versions
from dermis.web.clinic.together import read_together

router = Router(tags=["appointments"])


def appointment_out(a: Appointment) -> dict:
    fields = [
        "patient_id",
        "practitioner_id",
        "location_id",
        "room_id",
        "equipment_id",
        "plan_id",
        "kind",
        "start",
        "end",
        "status",
        "cancel_reason",
        "late_cancel",
        "notes",
        "series_index",
        "modality",
        "provisional",
        "safety_flag",
    ]
    data = {"id": a.pk, **{name: getattr(a, name) for name in fields}}
    # Clinic time with its offset, whether the row was just made or read back (UTC).
    data["start"], data["end"] = timezone.localtime(a.start), timezone.localtime(a.end)
    return data


def _aware(value: datetime) -> datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value)


FILTER_KINDS = {
    "start_from": datetime,
    "start_before": datetime,
    "patient": int,
    "practitioner": int,
    "status": str,
}


def _appointments(clinic: int, **given):
    """The clinic's appointments in order, narrowed by the filters `given` (FILTER_KINDS)."""
    rows = Appointment.objects.filter(clinic_id=clinic).order_by("start", "pk")
    if "start_from" in given:
        rows = rows.filter(start__gte=given["start_from"])
    if "start_before" in given:
        rows = rows.filter(start__lt=given["start_before"])
    if "patient" in given:
        rows = rows.filter(patient_id=given["patient"])
    if "practitioner" in given:
        rows = rows.filter(practitioner_id=given["practitioner"])
    if "status" in given:
        rows = rows.filter(status=given["status"])
    return rows


@cache
def _prepared(names: frozenset[str]) -> tuple[PreparedRows, PreparedCount]:
    """The list and its count with these filters, composed once per process (clinic/prepared.py):
    composing them took as long as reading a page (32 shapes at most)."""
    kinds = {"clinic": int, **{name: FILTER_KINDS[name] for name in sorted(names)}}
    return (
        PreparedRows(Appointment, _appointments, **kinds),
        PreparedCount(Appointment, _appointments, **kinds),
    )


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@router.get("/appointments", response=Page[AppointmentOut], summary="The clinic's appointments")
def list_appointments(request, query: Query[AppointmentQuery]):
    """Filters: `date_from`/`date_to` (clinic days, inclusive), patient, practitioner, status."""
    staff = require_staff(request, ANY_STAFF)
    given = {
        "start_from": _day_start(query.date_from) if query.date_from else None,
        "start_before": _day_start(query.date_to + timedelta(days=1)) if query.date_to else None,
        "patient": query.patient_id,
        "practitioner": query.practitioner_id,
        "status": query.status,
    }
    given = {name: value for name, value in given.items() if value is not None}
    page, counted = _prepared(frozenset(given))
    filters = (query.date_from, query.date_to, query.patient_id, query.practitioner_id)
    # A few days', a patient's … are counted, and the count kept while the clinic's schedule
    # version stands (from today on, a large clinic's count reads tens of thousands of index
    # entries); the clinic's whole history (by status) is read from the tally. The page and the
    # version or the tally in one round trip.
    narrowed = any(f is not None for f in filters)
    clinic = staff.clinic_id
    with read_together(
        page.ahead(query.limit, query.offset, clinic=clinic, **given),
        versions.VERSION.ahead(clinic=clinic)
        if narrowed
        else selectors.appointment_count_read(staff.clinic, query.status),
    ):
        window = page.rows(query.limit, query.offset, clinic=clinic, **given)
        if narrowed:
            kept = versions.kept(
                "appointment-count",
                clinic,
                tuple(sorted(given.items())),
                timezone.now(),
                lambda: (str(counted.count(clinic=clinic, **given)), None),
            )
            count = int(kept)
        else:
            count = selectors.appointment_count(staff.clinic, query.status)
    window = list(window)
    # Times are written in the clinic's zone (`appointment_out`).
    zone = timezone.get_current_timezone_name()
    shown = kept_json(request, window, count, query.limit, query.offset, zone)
    return shown or {
        "count": count,
        "limit": query.limit,
        "offset": query.offset,
        "items": [appointment_out(a) for a in window],
    }


@router.get("/appointments/{appointment_id}", response=AppointmentOut, summary="One appointment")
def get_appointment(request, appointment_id: PathId):
    staff = require_staff(request, ANY_STAFF)
    appointment = clinic_record(staff, Appointment, appointment_id)
    audit(request, AuditEvent.Action.VIEW, appointment)
    return appointment_out(appointment)


def _in_clinic(model, pk: int | None, staff: StaffMember, field: str):
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, clinic=staff.clinic).first()
    if obj is None:
        raise field_error(f"body.{field}", "is not one of this clinic's")
    return obj


@router.post(
    "/appointments",
    response={201: AppointmentOut, 409: Problem, 422: Problem},
    summary="Book an appointment",
)
def create_appointment(request, payload: AppointmentIn):
    """The booking rules (not in the past, 5 minutes to 8 hours, inside the practitioner's working
    hours) and, for a treatment, the safety gate: 422 naming the field, and for a deferral the
    date it ends (`errors[0].possible_from`). 409 `urn:dermis:problem:slot-taken` when the
    practitioner, room or device is already booked (the database decides)."""
    staff = require_staff(request, ANY_STAFF)
    patient = Patient.objects.filter(pk=payload.patient_id, clinic=staff.clinic).first()
    if patient is None:
        raise field_error("body.patient_id", "is not a patient of this clinic")
    practitioner = StaffMember.objects.filter(
        pk=payload.practitioner_id, clinic=staff.clinic
    ).first()
    if practitioner is None or not practitioner.is_clinical:
        raise field_error("body.practitioner_id", "is not a practitioner of this clinic")
    plan = None
    if payload.plan_id is not None:
        plan = patient.plans.filter(pk=payload.plan_id).first()
        if plan is None:
            raise field_error("body.plan_id", "is not one of this patient's plans")
    appointment = services.book_appointment(
        api_actor(request),
        patient,
        practitioner=practitioner,
        start=_aware(payload.start),
        end=_aware(payload.end),
        kind=payload.kind,
        location=_in_clinic(Location, payload.location_id, staff, "location_id"),
        room=_in_clinic(Room, payload.room_id, staff, "room_id"),
        equipment=_in_clinic(Equipment, payload.equipment_id, staff, "equipment_id"),
        plan=plan,
        modality=payload.modality,
        notes=payload.notes,
        precare_done=payload.precare_done,
        override_reason=payload.override_reason,
    )
    return Status(201, appointment_out(appointment))


@router.post(
    "/appointments/{appointment_id}/move",
    response={200: AppointmentOut, 409: Problem, 422: Problem},
    summary="Move an appointment",
)
def move_appointment(request, appointment_id: PathId, payload: AppointmentMove):
    """The same rules and safety gate as booking. To move a whole series with its interval
    checks, use the web's reschedule page."""
    staff = require_staff(request, ANY_STAFF)
    appointment = clinic_record(staff, Appointment, appointment_id)
    services.move_appointment(
        api_actor(request),
        appointment,
        start=_aware(payload.start),
        end=_aware(payload.end) if payload.end else None,
        precare_done=payload.precare_done,
        override_reason=payload.override_reason,
    )
    return appointment_out(appointment)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, 409: Problem},
    summary="Cancel an appointment",
)
def cancel_appointment(request, appointment_id: PathId, payload: AppointmentCancel):
    staff = require_staff(request, ANY_STAFF)
    appointment = clinic_record(staff, Appointment, appointment_id)
    services.cancel_appointment(api_actor(request), appointment, payload.reason)
    return appointment_out(appointment)


@router.post(
    "/appointments/{appointment_id}/status",
    response={200: AppointmentOut, 409: Problem, 422: Problem},
    summary="Move an appointment along its lifecycle",
)
def set_appointment_status(request, appointment_id: PathId, payload: AppointmentStatusIn):
    """booked -> confirmed -> arrived -> in_treatment -> completed, or cancelled (with a reason)
    or no_show. Front desk: confirmed, arrived, no_show, cancelled, booked; practitioners also
    in_treatment and completed. Steps may be skipped forward; one step back undoes a slip."""
    staff = require_staff(request, ANY_STAFF)
    appointment = clinic_record(staff, Appointment, appointment_id)
    services.set_status(api_actor(request), appointment, payload.status, reason=payload.reason)
    return appointment_out(appointment)
