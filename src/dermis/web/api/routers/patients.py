"""Patients: demographics, which front desk may see and change as well as clinical staff."""

from __future__ import annotations

from ninja import Query, Router, Status

from dermis.web.api.auth import api_actor, clinic_patient, require_staff
from dermis.web.api.kept import kept_json
from dermis.web.api.schemas import (
    Page,
    PathId,
    PatientIn,
    PatientMergeIn,
    PatientMergeOut,
    PatientOut,
    PatientPatch,
    PatientQuery,
    Problem,
)
from dermis.web.clinic.access import ADMIN_ONLY, ANY_STAFF, audit
from dermis.web.clinic.models import AuditEvent, Patient, StaffMember
from dermis.web.clinic.paging import page_and_total
from dermis.web.clinic.patients import selectors, services
from dermis.web.clinic.patients.filters import PatientFilter
from dermis.web.clinic.together import read_together

router = Router(tags=["patients"])

DEMOGRAPHICS = services.DEMOGRAPHICS


def patient_out(patient: Patient, staff: StaffMember) -> dict:
    data = {name: getattr(patient, name) for name in DEMOGRAPHICS}
    # The phototype is clinical: front desk never sees it.
    data["fitzpatrick"] = (patient.fitzpatrick or None) if staff.is_clinical else None
    return {"id": patient.pk, "created_at": patient.created_at, **data}


@router.get("/patients", response=Page[PatientOut], summary="List the clinic's patients")
def list_patients(request, query: Query[PatientQuery]):
    """Filters: `q` (part of a name without its accents, an email, a phone number in any form, or
    a date of birth such as 14/07/1988 or 14 Jul 1988) and `date_of_birth`."""
    staff = require_staff(request, ANY_STAFF)
    search = PatientFilter(q=query.q or "", date_of_birth=query.date_of_birth)
    patients = selectors.search(api_actor(request), search)
    # who listed or searched, never for what
    summary = "api: patient list or search"
    audit(request, AuditEvent.Action.VIEW, summary=summary, object_type="PatientList")
    # The page's rows and the clinic's tally in one round trip, as the web page reads them.
    reads = selectors.page_reads(api_actor(request), search, query.offset, query.limit)
    with read_together(*reads):
        window, count = page_and_total(
            patients,
            query.offset,
            query.limit,
            lambda: selectors.count(api_actor(request), search, patients),
            counted=bool(reads),
        )
    window = list(window)
    # The phototype is shown to clinical roles only (`patient_out`).
    shown = kept_json(request, window, count, query.limit, query.offset, staff.is_clinical)
    return shown or {
        "count": count,
        "limit": query.limit,
        "offset": query.offset,
        "items": [patient_out(p, staff) for p in window],
    }


@router.post("/patients", response={201: PatientOut, 409: Problem}, summary="Register a patient")
def create_patient(request, payload: PatientIn):
    """A likely duplicate (the same name and date of birth, email or phone as a patient the clinic
    has) is refused with 409 `possible-duplicate`, its `errors[0].candidates` the ids to check,
    unless `confirm_not_duplicate` is true."""
    staff = require_staff(request, ANY_STAFF)
    data = payload.model_dump()
    if data["fitzpatrick"] is None:
        del data["fitzpatrick"]
    patient = services.register_patient(api_actor(request), **data)
    return Status(201, patient_out(patient, staff))


@router.get("/patients/{patient_id}", response=PatientOut, summary="A patient's demographics")
def get_patient(request, patient_id: PathId):
    staff = require_staff(request, ANY_STAFF)
    patient = clinic_patient(staff, patient_id)
    audit(request, AuditEvent.Action.VIEW, patient, summary="api: demographics")
    return patient_out(patient, staff)


@router.patch("/patients/{patient_id}", response=PatientOut, summary="Change demographics")
def update_patient(request, patient_id: PathId, payload: PatientPatch):
    """Only the fields sent are changed; `fitzpatrick` needs a clinical role."""
    staff = require_staff(request, ANY_STAFF)
    patient = clinic_patient(staff, patient_id)
    changes = payload.model_dump(exclude_unset=True)
    # null clears the phototype; null leaves a field that cannot be empty as it is
    changes = {k: v for k, v in changes.items() if v is not None or k == "fitzpatrick"}
    services.update_patient(api_actor(request), patient, **changes)
    return patient_out(patient, staff)


@router.post(
    "/patients/{patient_id}/merge",
    response=PatientMergeOut,
    summary="Merge a duplicate into this patient (admins)",
)
def merge_patient(request, patient_id: PathId, payload: PatientMergeIn):
    """Everything recorded on `merge_away_id` moves to this patient, in one transaction; the
    duplicate's id then answers 308 with a `Location` at the kept record."""
    staff = require_staff(request, ADMIN_ONLY)
    keep = clinic_patient(staff, patient_id)
    actor = api_actor(request)
    away = actor.patient(payload.merge_away_id, field="merge_away_id")
    return services.merge_patients(actor, keep, away)
