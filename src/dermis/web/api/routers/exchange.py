"""FHIR export and import, subject access export, erasure and the clinic's CSV files."""

from __future__ import annotations

import json
from dataclasses import replace

from django.http import HttpResponse
from ninja import Body, Field, Query, Router, Schema

from dermis.web import portability
from dermis.web.api.auth import api_actor, clinic_patient, require_staff
from dermis.web.api.errors import ApiError
from dermis.web.api.schemas import In, Out, PathId, Problem, Text
from dermis.web.clinic.access import ADMIN_ONLY, CLINICAL, audit
from dermis.web.clinic.models import AuditEvent
from dermis.web.clinic.patients import record_version
from dermis.web.clinic.patients import services as patients
from dermis.web.clinic.together import read_together
from dermis.web.fhir import import_, kept

router = Router(tags=["exchange and privacy"])

FHIR_JSON = "application/fhir+json"


def _content(media_type: str, schema: dict, description: str) -> dict:
    return {
        "responses": {
            200: {"description": description, "content": {media_type: {"schema": schema}}}
        }
    }


class ImportOut(Out):
    created: dict[str, list[int]] = Field(description="ids by resource type")
    updated: dict[str, list[int]]
    unchanged: dict[str, list[int]]


class EraseIn(In):
    confirm: Text(40) = Field(description='exactly "erase patient <id>"')


class EraseOut(Out):
    patient_id: int
    erased: dict[str, int]
    audit_events_kept: int


class AccessQuery(Schema):
    include_photos: bool = Field(False, description="embed the image files (base64)")


@router.get(
    "/patients/{patient_id}/fhir",
    summary="The patient's record as a FHIR R5 Bundle",
    openapi_extra=_content(FHIR_JSON, {"type": "object"}, "a Bundle of type collection"),
)
def export_fhir(request, patient_id: PathId):
    staff = require_staff(request, CLINICAL)
    # The patient and the numbers their bundle is kept by, in one round trip.
    with read_together(*record_version.with_patient(patient_id, staff.clinic_id)):
        patient = clinic_patient(staff, patient_id)
        bundle = kept.patient_bundle_json(patient)
    audit(request, AuditEvent.Action.EXPORT, patient, summary="api: FHIR bundle")
    return HttpResponse(bundle, content_type=FHIR_JSON)


def _by_type(objects) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for obj in objects:
        out.setdefault(type(obj).__name__, []).append(obj.pk)
    return out


@router.post("/fhir/import", response=ImportOut, summary="Import Patient and Appointment resources")
def import_fhir(request, payload: Body[dict]):
    """Idempotent: records are matched by identifier (system + value). The whole bundle is
    checked first; any error means nothing is written, and every error is listed."""
    staff = require_staff(request, ADMIN_ONLY)
    try:
        plan = import_.read_bundle(payload, staff.clinic)
        actor = api_actor(request)
        result = import_.apply(plan, replace(actor, channel="import"))
    except import_.BundleInvalid as exc:
        errors = [{"field": f"body.{e['field']}", "message": e["message"]} for e in exc.errors]
        detail = f"{len(errors)} error(s) in the bundle; nothing was imported."
        raise ApiError(
            422, detail, errors=errors, type_="urn:dermis:problem:invalid-input"
        ) from None
    return {
        "created": _by_type(result.created),
        "updated": _by_type(result.updated),
        "unchanged": _by_type(result.unchanged),
    }


@router.get(
    "/patients/{patient_id}/subject-access",
    summary="Subject access export: everything about one patient (JSON)",
    openapi_extra=_content("application/json", {"type": "object"}, "the full record"),
)
def subject_access(request, patient_id: PathId, query: Query[AccessQuery]):
    staff = require_staff(request, ADMIN_ONLY)
    patient = clinic_patient(staff, patient_id)
    audit(request, AuditEvent.Action.EXPORT, patient, summary="api: subject access export")
    data = portability.subject_access(patient, include_photos=query.include_photos)
    response = HttpResponse(json.dumps(data), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}.json"'
    return response


@router.post(
    "/patients/{patient_id}/erase",
    response={200: EraseOut, 409: Problem},
    summary="Erase a patient",
)
def erase_patient(request, patient_id: PathId, payload: EraseIn):
    """Deletes the patient's personal and clinical data and photo files; keeps the audit trail
    (ids only) and records the erasure. Send `{"confirm": "erase patient <id>"}`."""
    staff = require_staff(request, ADMIN_ONLY)
    patient = clinic_patient(staff, patient_id)
    return patients.erase_patient(api_actor(request), patient, confirm=payload.confirm)


def _csv_doc() -> dict:
    return _content("text/csv", {"type": "string"}, "CSV with a header row")


def _csv(request, name: str, text: str) -> HttpResponse:
    audit(request, AuditEvent.Action.EXPORT, summary=f"api: {name}")
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/exports/patients.csv", summary="Patients, for analysis (CSV)", openapi_extra=_csv_doc()
)
def patients_csv(request):
    """No names, contact details or clinical notes; columns in dermis.web.portability."""
    staff = require_staff(request, ADMIN_ONLY)
    return _csv(request, "patients.csv", portability.patients_csv(staff.clinic))


@router.get(
    "/exports/sessions.csv",
    summary="Sessions by area, for analysis (CSV)",
    openapi_extra=_csv_doc(),
)
def sessions_csv(request):
    staff = require_staff(request, ADMIN_ONLY)
    return _csv(request, "sessions.csv", portability.sessions_csv(staff.clinic))
