"""Every API operation, every persona: the same rules as the web pages' matrix.

Refusals: anonymous -> 401; nobody (no clinic) and a role without access -> 403; another clinic's
record -> 404. Allowed -> anything that is not a refusal or a server error (a valid body is sent,
so a role check cannot hide behind a validation error). Records in paths are Northgate's Nora's.
A new operation without a row here fails `test_every_operation_is_in_the_matrix`.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from tests.api.api_records import ASSESSMENT, journey

# nora: Northgate's patient signed in to the portal; the API is staff's, so she is refused (401)
# as anyone without a token is.
EVERYONE = {"anonymous", "nobody", "alice", "pat", "fran", "oscar", "nora"}
ANY_STAFF = {"alice", "pat", "fran", "oscar"}
CLINIC_STAFF = {"alice", "pat", "fran"}
CLINICAL = {"alice", "pat"}
ADMIN = {"alice"}

# (method, path) -> personas allowed. Paths as in /api/openapi.json.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/v1/patients"): ANY_STAFF,
    ("POST", "/api/v1/patients"): ANY_STAFF,
    ("GET", "/api/v1/patients/{patient_id}"): CLINIC_STAFF,
    ("PATCH", "/api/v1/patients/{patient_id}"): CLINIC_STAFF,
    ("GET", "/api/v1/patients/{patient_id}/consultations"): CLINICAL,
    ("POST", "/api/v1/patients/{patient_id}/consultations"): CLINICAL,
    ("GET", "/api/v1/consultations/{consultation_id}"): CLINICAL,
    ("POST", "/api/v1/consultations/{consultation_id}/accept"): CLINICAL,
    ("POST", "/api/v1/consultations/{consultation_id}/facts"): CLINICAL,
    ("POST", "/api/v1/plans/{plan_id}/revise"): CLINICAL,
    ("GET", "/api/v1/patients/{patient_id}/plans"): CLINICAL,
    ("GET", "/api/v1/plans/{plan_id}"): CLINICAL,
    ("GET", "/api/v1/patients/{patient_id}/sessions"): CLINICAL,
    ("GET", "/api/v1/sessions/{session_id}"): CLINICAL,
    ("GET", "/api/v1/patients/{patient_id}/grades"): CLINICAL,
    ("POST", "/api/v1/patients/{patient_id}/grades"): CLINICAL,
    ("GET", "/api/v1/patients/{patient_id}/forecast"): CLINICAL,
    ("GET", "/api/v1/outcomes/calibration"): {"alice", "pat", "oscar"},
    ("GET", "/api/v1/outcomes/parameter-sets"): {"alice", "pat", "oscar"},
    ("POST", "/api/v1/outcomes/parameter-sets/refit"): ADMIN,
    ("POST", "/api/v1/outcomes/parameter-sets/revert"): ADMIN,
    ("GET", "/api/v1/appointments"): ANY_STAFF,
    ("POST", "/api/v1/appointments"): CLINIC_STAFF,
    ("GET", "/api/v1/appointments/{appointment_id}"): CLINIC_STAFF,
    ("POST", "/api/v1/appointments/{appointment_id}/move"): CLINIC_STAFF,
    ("POST", "/api/v1/appointments/{appointment_id}/cancel"): CLINIC_STAFF,
    ("POST", "/api/v1/appointments/{appointment_id}/status"): CLINIC_STAFF,
    ("GET", "/api/v1/plans/{plan_id}/slot-proposals"): CLINIC_STAFF,
    ("GET", "/api/v1/recall"): ANY_STAFF,
    ("GET", "/api/v1/recall/{patient_id}/contacts"): CLINIC_STAFF,
    ("POST", "/api/v1/recall/{patient_id}/contacts"): CLINIC_STAFF,
    ("GET", "/api/v1/recall/{patient_id}/proposals"): CLINIC_STAFF,
    ("POST", "/api/v1/recall/{patient_id}/bookings"): CLINIC_STAFF,
    ("GET", "/api/v1/practitioners"): ANY_STAFF,
    ("GET", "/api/v1/directory"): EVERYONE,
    ("GET", "/api/v1/patients/{patient_id}/fhir"): CLINICAL,
    ("POST", "/api/v1/fhir/import"): ADMIN,
    ("GET", "/api/v1/patients/{patient_id}/subject-access"): ADMIN,
    ("POST", "/api/v1/patients/{patient_id}/erase"): ADMIN,
    ("GET", "/api/v1/exports/patients.csv"): ADMIN,
    ("GET", "/api/v1/exports/sessions.csv"): ADMIN,
    ("POST", "/api/v1/patients/{patient_id}/sessions"): CLINICAL,
    ("PATCH", "/api/v1/sessions/{session_id}"): CLINICAL,
    ("POST", "/api/v1/sessions/{session_id}/finalise"): CLINICAL,
    ("POST", "/api/v1/sessions/{session_id}/addenda"): CLINICAL,
    ("POST", "/api/v1/patients/{patient_id}/photos"): CLINICAL,
    ("GET", "/api/v1/photos/{photo_id}"): CLINICAL,
    ("GET", "/api/v1/sessions/{session_id}/integrity"): CLINICAL,
    ("GET", "/api/v1/consents/{consent_id}/integrity"): CLINICAL,
}
# Sent as multipart/form-data (a fresh body per request: a file is read once).
MULTIPART = {("POST", "/api/v1/patients/{patient_id}/photos")}


def _operations() -> set[tuple[str, str]]:
    from dermis.web.api.api import api

    schema = api.get_openapi_schema()
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_operation_is_in_the_matrix(db):
    operations = _operations()
    assert not operations - MATRIX.keys(), f"add to MATRIX: {sorted(operations - MATRIX.keys())}"
    assert not MATRIX.keys() - operations, f"not operations: {sorted(MATRIX.keys() - operations)}"


@pytest.fixture
def record(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return journey(world.nora, world.pat, settings.PHOTO_ROOT)


def _bodies(world, record) -> dict[tuple[str, str], object]:
    nora = world.nora
    return {
        ("POST", "/api/v1/patients"): {
            "given_name": "Ada",
            "family_name": "Byron",
            "date_of_birth": "1991-12-10",
        },
        ("PATCH", "/api/v1/patients/{patient_id}"): {"phone": "07700 900999"},
        ("POST", "/api/v1/patients/{patient_id}/consultations"): {
            "intake": {},
            "assessment": ASSESSMENT,
            "fitzpatrick": "II",
        },
        ("POST", "/api/v1/patients/{patient_id}/grades"): {
            "area": "cheeks",
            "concern": "acne_scars_rolling",
            "grade": 2,
            "plan_id": record.plan.pk,
        },
        ("POST", "/api/v1/appointments"): {
            "patient_id": nora.pk,
            "practitioner_id": world.pat.pk,
            "start": "2027-05-03T10:00:00+01:00",
            "end": "2027-05-03T11:00:00+01:00",
        },
        ("POST", "/api/v1/fhir/import"): {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Patient",
                        "identifier": [{"system": "urn:example:mrn", "value": "M-1"}],
                        "name": [{"given": ["Iris"], "family": "Imported"}],
                        "birthDate": "1980-02-02",
                    }
                }
            ],
        },
        ("POST", "/api/v1/patients/{patient_id}/erase"): {"confirm": f"erase patient {nora.pk}"},
        ("POST", "/api/v1/appointments/{appointment_id}/move"): {
            "start": "2027-05-03T10:00:00+01:00"
        },
        ("POST", "/api/v1/appointments/{appointment_id}/cancel"): {},
        ("POST", "/api/v1/consultations/{consultation_id}/accept"): {"signer_name": "Nora Quinn"},
        ("POST", "/api/v1/consultations/{consultation_id}/facts"): {"keep": []},
        ("POST", "/api/v1/plans/{plan_id}/revise"): {
            "changes": [{"course": 0, "what": "sessions", "value": 5, "reason": "more"}]
        },
        ("POST", "/api/v1/appointments/{appointment_id}/status"): {"status": "done"},
        ("POST", "/api/v1/patients/{patient_id}/sessions"): {
            "modality": "microneedling",
            "device": "automated_pen",
            "performed_at": "2026-01-05T10:00:00+00:00",
            "areas": [{"area": "cheeks", "depth_mm": 1.0}],
            "precare_done": True,
        },
        ("PATCH", "/api/v1/sessions/{session_id}"): {"notes": "changed"},
        ("POST", "/api/v1/sessions/{session_id}/finalise"): {"version": "0" * 20},
        ("POST", "/api/v1/sessions/{session_id}/addenda"): {"text": "Reviewed at follow-up."},
        ("POST", "/api/v1/outcomes/parameter-sets/refit"): {},
        ("POST", "/api/v1/outcomes/parameter-sets/revert"): {},
        ("POST", "/api/v1/recall/{patient_id}/contacts"): {"outcome": "no_answer"},
        ("POST", "/api/v1/recall/{patient_id}/bookings"): {"start": "2027-05-03T10:00:00+01:00"},
    }


def _photo_body() -> dict:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), "tan").save(out, "JPEG")
    return {
        "file": SimpleUploadedFile("p.jpg", out.getvalue(), "image/jpeg"),
        "area": "cheeks",
        "taken_on": "2026-01-05",
        "consent_for_record": "true",
    }


# Operations that name the patient in the body, not the path: another clinic's patient is then a
# 422 naming that field (the same answer as an id that does not exist).
BODY_REFERENCES = {("POST", "/api/v1/appointments"): "patient_id"}


def _path(template: str, world, record) -> str:
    ids = {
        "patient_id": world.nora.pk,
        "consultation_id": record.consultation.pk,
        "plan_id": record.plan.pk,
        "session_id": record.session.pk,
        "appointment_id": record.appointment.pk,
        "photo_id": record.photo.pk,
        "consent_id": record.consent.pk,
    }
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), template)


def _outcome(response, field: str | None = None) -> str:
    if response.status_code >= 500:
        return f"error {response.status_code}"
    if field and response.status_code == 422:
        fields = [e.get("field", "") for e in response.json().get("errors", [])]
        if any(f.endswith(field) for f in fields):
            return "404"
    if response.status_code in (401, 403, 404, 405):
        return str(response.status_code)
    return "allowed"


@pytest.mark.parametrize("operation", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_who_may_use_each_operation(operation, world, record, api_as):
    method, template = operation
    allowed = MATRIX[operation]
    path = _path(template, world, record)
    body = _bodies(world, record).get(operation)
    seen = {}
    for persona in ("anonymous", "nobody", "fran", "pat", "alice", "oscar", "nora"):
        client = api_as(persona)
        # A rolled-back savepoint per request: an erasure by one persona leaves Nora for the next.
        with transaction.atomic():
            if operation in MULTIPART:
                response = client.client.post(path, _photo_body(), headers=client.headers)
            elif method == "GET":
                response = client.get(path)
            elif method == "PATCH":
                response = client.patch(path, body)
            else:
                response = client.post(path, body)
            transaction.set_rollback(True)
        seen[persona] = _outcome(response, BODY_REFERENCES.get(operation))
    assert {p for p, o in seen.items() if o == "allowed"} == allowed, seen
    for persona, outcome in seen.items():
        if persona in allowed:
            continue
        if persona in ("anonymous", "nora"):
            assert outcome == "401", seen
        elif persona == "oscar" and "pat" in allowed:
            # His role would do; the record is another clinic's: not found.
            assert outcome == "404", seen
        else:
            assert outcome == "403", seen
