"""CSV for analysis, the subject access export and erasure (clinic admin only)."""

from __future__ import annotations

import base64
import csv
import io

import pytest

from dermis.web.api.models import ExternalId
from dermis.web.clinic import models as m
from dermis.web.portability import PATIENT_COLUMNS, SESSION_COLUMNS
from tests.api.api_records import PNG, journey


@pytest.fixture
def record(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return journey(world.nora, world.pat, settings.PHOTO_ROOT)


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_patients_csv_has_no_names_or_contacts(world, api_as, record):
    response = api_as("alice").get("/api/v1/exports/patients.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert text.splitlines()[0].split(",") == PATIENT_COLUMNS
    for secret in ("Nora", "Quinn", "nora@example.org", "07700", "Rhys"):
        assert secret not in text
    (row,) = _rows(response)
    assert (row["patient_id"], row["sessions"], row["active_plan_version"]) == (
        str(world.nora.pk),
        "1",
        "2",
    )


def test_sessions_csv_has_a_row_per_area_and_no_notes(world, api_as, record):
    response = api_as("alice").get("/api/v1/exports/sessions.csv")

    rows = _rows(response)
    assert list(rows[0]) == SESSION_COLUMNS
    assert {(r["area"], r["depth_mm"]) for r in rows} == {("cheeks", "1.00"), ("forehead", "0.50")}
    assert "Tolerated well" not in response.content.decode()
    assert m.AuditEvent.objects.filter(action="export", summary="api: sessions.csv").exists()


def test_subject_access_holds_the_whole_record_and_its_audit_trail(world, api_as, record):
    api_as("pat").get(f"/api/v1/patients/{world.nora.pk}")  # leaves a trail entry

    response = api_as("alice").get(
        f"/api/v1/patients/{world.nora.pk}/subject-access", include_photos="true"
    )

    assert response.status_code == 200
    data = response.json()
    assert data["patient"]["family_name"] == "Quinn"
    assert data["consents"][0]["text"] == "I agree to microneedling."
    assert base64.b64decode(data["consents"][0]["signature_png"]) == PNG
    assert [p["version"] for p in data["plans"]] == [1, 2]
    assert {a["area"] for a in data["sessions"][0]["areas"]} == {"cheeks", "forehead"}
    assert base64.b64decode(data["photos"][0]["data_base64"]) == PNG
    assert "storage_name" not in data["photos"][0]
    assert any(e["username"] == "pat" and e["action"] == "view" for e in data["audit_trail"])
    assert data["grades"][0]["grade"] == 2 and data["reminders"][0]["status"] == "sent"


def test_subject_access_leaves_out_photo_files_unless_asked(world, api_as, record):
    data = api_as("alice").get(f"/api/v1/patients/{world.nora.pk}/subject-access").json()

    assert "data_base64" not in data["photos"][0]


def test_erasure_needs_the_exact_confirmation(world, api_as, record):
    url = f"/api/v1/patients/{world.nora.pk}/erase"

    response = api_as("alice").post(url, {"confirm": "yes"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.confirm"
    assert m.Patient.objects.filter(pk=world.nora.pk).exists()


def test_erasure_removes_the_record_and_files_and_keeps_the_trail(
    world, api_as, record, django_capture_on_commit_callbacks
):
    pk = world.nora.pk
    api_as("pat").get(f"/api/v1/patients/{pk}")
    ExternalId.objects.create(
        clinic=world.northgate, kind="patient", system="s", value="v", object_id=pk
    )
    trail_before = m.AuditEvent.objects.filter(patient_id_ref=pk).count()

    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows are gone
        response = api_as("alice").post(
            f"/api/v1/patients/{pk}/erase", {"confirm": f"erase patient {pk}"}
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["erased"]["sessions"] == 1 and body["erased"]["plans"] == 2
    assert not m.Patient.objects.filter(pk=pk).exists()
    for model in (m.Consultation, m.ConsentRecord, m.TreatmentPlan, m.Appointment,
                  m.TreatmentSession, m.Photo, m.FollowUpGrade, m.Reminder):  # fmt: skip
        assert not model.objects.filter(patient_id=pk).exists(), model
    assert not m.SessionArea.objects.exists() and not m.SessionAddendum.objects.exists()
    assert not ExternalId.objects.filter(object_id=pk).exists()
    assert not record.photo_file.exists()
    events = m.AuditEvent.objects.filter(patient_id_ref=pk)
    assert events.count() == trail_before + 1 == body["audit_events_kept"]
    erase = events.get(action="erase")
    assert erase.username == "alice" and "Quinn" not in erase.summary
    assert m.Patient.objects.filter(pk=world.rhys.pk).exists()


@pytest.mark.parametrize("persona", ["pat", "fran"])
def test_only_the_admin_erases_or_exports(world, api_as, persona):
    client = api_as(persona)
    pk = world.nora.pk

    assert (
        client.post(f"/api/v1/patients/{pk}/erase", {"confirm": f"erase patient {pk}"}).status_code
        == 403
    )
    assert client.get(f"/api/v1/patients/{pk}/subject-access").status_code == 403
    assert client.get("/api/v1/exports/sessions.csv").status_code == 403
    assert m.Patient.objects.filter(pk=pk).exists()


def test_another_clinics_patient_cannot_be_erased(world, api_as):
    pk = world.rhys.pk

    response = api_as("alice").post(
        f"/api/v1/patients/{pk}/erase", {"confirm": f"erase patient {pk}"}
    )

    assert response.status_code == 404
    assert m.Patient.objects.filter(pk=pk).exists()
