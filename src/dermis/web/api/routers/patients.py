"""Patients: demographics, which front desk may see and change as well as clinical staff."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from ninja import Query, Router, Status

from dermis.web.api.auth import clinic_patient, require_staff
from dermis.web.api.errors import forbidden
from dermis.web.api.schemas import Page, PathId, PatientIn, PatientOut, PatientPatch, PatientQuery
from dermis.web.clinic.access import ANY_STAFF, audit
from dermis.web.clinic.models import AuditEvent, Patient, StaffMember

router = Router(tags=["patients"])

DEMOGRAPHICS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "email_reminders",
    "sms_reminders",
)


def patient_out(patient: Patient, staff: StaffMember) -> dict:
    data = {name: getattr(patient, name) for name in DEMOGRAPHICS}
    # The phototype is clinical: front desk never sees it.
    data["fitzpatrick"] = (patient.fitzpatrick or None) if staff.is_clinical else None
    return {"id": patient.pk, "created_at": patient.created_at, **data}


def _phototype_denied():
    return forbidden("body.fitzpatrick: only clinical staff record the phototype.")


@router.get("/patients", response=Page[PatientOut], summary="List the clinic's patients")
def list_patients(request, query: Query[PatientQuery]):
    """Filters: `q` (part of a name, the email or the phone) and `date_of_birth`."""
    staff = require_staff(request, ANY_STAFF)
    patients = Patient.objects.filter(clinic=staff.clinic).order_by(
        "family_name", "given_name", "pk"
    )
    if query.q:
        words = query.q.split()
        for word in words:
            patients = patients.filter(
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(email__icontains=word)
                | Q(phone__icontains=word)
            )
    if query.date_of_birth:
        patients = patients.filter(date_of_birth=query.date_of_birth)
    window = patients[query.offset : query.offset + query.limit]
    return {
        "count": patients.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": [patient_out(p, staff) for p in window],
    }


@router.post("/patients", response={201: PatientOut}, summary="Register a patient")
def create_patient(request, payload: PatientIn):
    staff = require_staff(request, ANY_STAFF)
    if payload.fitzpatrick is not None and not staff.is_clinical:
        raise _phototype_denied()
    data = payload.model_dump()
    data["fitzpatrick"] = data["fitzpatrick"] or ""
    with transaction.atomic():
        patient = Patient.objects.create(clinic=staff.clinic, created_by=request.user, **data)
        audit(request, AuditEvent.Action.CREATE, patient, summary="api: patient registered")
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
    if "fitzpatrick" in changes and not staff.is_clinical:
        raise _phototype_denied()
    for name, value in changes.items():
        if name == "fitzpatrick":
            patient.fitzpatrick = value or ""  # null clears it
        elif value is not None:  # null leaves a field that cannot be empty as it is
            setattr(patient, name, value)
    with transaction.atomic():
        patient.save()
        fields = ",".join(sorted(changes))[:150]
        audit(request, AuditEvent.Action.UPDATE, patient, summary=f"api: changed {fields}")
    return patient_out(patient, staff)
