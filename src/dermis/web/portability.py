"""Portability and privacy: CSV for the clinic's own analysis, a subject access export, erasure.

CSV files hold no names, contact details or free-text clinical notes (data minimisation):

- patients.csv: patient_id, date_of_birth, sex, fitzpatrick, created_on, consultations, sessions,
  last_session_on, active_plan_version, email_reminders, sms_reminders
- sessions.csv, one row per treated area (a session without areas has one row, area empty):
  session_id, patient_id, performed_at, practitioner_id, plan_id, modality, device, status,
  endpoint, duration_minutes, area, depth_mm, tip, passes

Erasure is a service (`dermis.web.clinic.patients.services.erase_patient`).
"""

from __future__ import annotations

import base64
import csv
import io

from django.db.models import Count, Max
from django.utils import timezone

from dermis.web.api.models import ExternalId
from dermis.web.clinic import models as m
from dermis.web.clinic.charting import photos as photo_store

PATIENT_COLUMNS = [
    "patient_id",
    "date_of_birth",
    "sex",
    "fitzpatrick",
    "created_on",
    "consultations",
    "sessions",
    "last_session_on",
    "active_plan_version",
    "email_reminders",
    "sms_reminders",
]
SESSION_COLUMNS = [
    "session_id",
    "patient_id",
    "performed_at",
    "practitioner_id",
    "plan_id",
    "modality",
    "device",
    "status",
    "endpoint",
    "duration_minutes",
    "area",
    "depth_mm",
    "tip",
    "passes",
]


def _cell(value) -> object:
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def _csv(columns: list[str], rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return out.getvalue()


def patients_csv(clinic: m.Clinic) -> str:
    patients = (
        m.Patient.objects.filter(clinic=clinic)
        .annotate(
            n_consultations=Count("consultations", distinct=True),
            n_sessions=Count("sessions", distinct=True),
            last_session=Max("sessions__performed_at"),
        )
        .order_by("pk")
    )
    active = dict(
        m.TreatmentPlan.objects.filter(
            patient__clinic=clinic, status=m.TreatmentPlan.Status.ACTIVE
        ).values_list("patient_id", "version")
    )
    rows = (
        {
            "patient_id": p.pk,
            "date_of_birth": p.date_of_birth.isoformat(),
            "sex": p.sex,
            "fitzpatrick": p.fitzpatrick,
            "created_on": timezone.localtime(p.created_at).date().isoformat(),
            "consultations": p.n_consultations,
            "sessions": p.n_sessions,
            "last_session_on": (
                timezone.localtime(p.last_session).date().isoformat() if p.last_session else ""
            ),
            "active_plan_version": active.get(p.pk, ""),
            "email_reminders": int(p.email_reminders),
            "sms_reminders": int(p.sms_reminders),
        }
        for p in patients
    )
    return _csv(PATIENT_COLUMNS, rows)


def sessions_csv(clinic: m.Clinic) -> str:
    sessions = (
        m.TreatmentSession.objects.filter(patient__clinic=clinic)
        .prefetch_related("areas")
        .order_by("performed_at", "pk")
    )

    def rows():
        for s in sessions:
            base = {
                "session_id": s.pk,
                "patient_id": s.patient_id,
                "performed_at": timezone.localtime(s.performed_at).isoformat(),
                "practitioner_id": s.practitioner_id,
                "plan_id": s.plan_id,
                "modality": s.modality,
                "device": s.device,
                "status": s.status,
                "endpoint": s.endpoint,
                "duration_minutes": s.duration_minutes,
            }
            areas = list(s.areas.all()) or [None]
            for a in areas:
                yield base | {
                    "area": a.area if a else "",
                    "depth_mm": a.depth_mm if a else "",
                    "tip": a.tip if a else "",
                    "passes": a.passes if a else "",
                }

    return _csv(SESSION_COLUMNS, rows())


def _fields(obj, exclude: tuple[str, ...] = ()) -> dict:
    """Every concrete field of a row, foreign keys as ids, binary as base64."""
    data = {}
    for f in obj._meta.concrete_fields:
        if f.name in exclude:
            continue
        value = getattr(obj, f.attname)
        if isinstance(value, bytes | memoryview):
            value = base64.b64encode(bytes(value)).decode()
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif value is not None and not isinstance(value, str | int | float | bool | list | dict):
            value = str(value)  # Decimal, UUID
        data[f.attname] = value
    return data


def _photo(photo: m.Photo, include_files: bool) -> dict:
    data = _fields(photo, exclude=("storage_name",))
    if include_files:
        try:
            data["data_base64"] = base64.b64encode(
                photo_store.path_of(photo.storage_name).read_bytes()
            ).decode()
        except (OSError, ValueError):
            data["data_base64"] = None  # the file is missing: say so rather than fail the export
    return data


def subject_access(patient: m.Patient, *, include_photos: bool = False) -> dict:
    """Everything about one patient, including who looked at or changed their record."""
    sessions = patient.sessions.prefetch_related("areas", "addenda").order_by("performed_at")
    return {
        "format": "dermis-subject-access/1",
        "generated_at": timezone.now().isoformat(),
        "patient": _fields(patient),
        "clinic": {"name": patient.clinic.name, "town": patient.clinic.town},
        "consultations": [_fields(c) for c in patient.consultations.order_by("created_at")],
        "consents": [_fields(c) for c in patient.consents.order_by("signed_at")],
        "plans": [_fields(p) for p in patient.plans.order_by("version")],
        "appointments": [_fields(a) for a in patient.appointments.order_by("start")],
        "sessions": [
            _fields(s)
            | {
                "areas": [_fields(a) for a in s.areas.all()],
                "addenda": [_fields(a) for a in s.addenda.all()],
            }
            for s in sessions
        ],
        "photos": [_photo(p, include_photos) for p in patient.photos.order_by("taken_on")],
        "grades": [_fields(g) for g in patient.grades.order_by("graded_on")],
        "reminders": [
            _fields(r, exclude=("claim_token",)) for r in patient.reminders.order_by("due_at")
        ],
        "waitlist": [
            _fields(e) | {"offers": [_fields(o) for o in e.offers.order_by("created_at")]}
            for e in patient.waitlist_entries.order_by("created_at")
        ],
        "portal_answers": [_fields(i) for i in patient.portal_intakes.order_by("submitted_at")],
        "check_ins": [_fields(c) for c in patient.check_ins.order_by("created_at")],
        "erasure_requests": [_fields(r) for r in patient.erasure_requests.order_by("requested_at")],
        "calendar_feeds": [
            _fields(f, exclude=("token_sha256",)) for f in patient.feeds.order_by("created_at")
        ],
        "imported_identifiers": [
            _fields(i, exclude=("clinic",))
            for i in ExternalId.of_patient(
                patient, patient.appointments.values_list("pk", flat=True)
            )
        ],
        "audit_trail": [
            _fields(e, exclude=("ip_address",))
            for e in m.AuditEvent.objects.about_patient(patient.pk).order_by("at", "pk")
        ],
    }
