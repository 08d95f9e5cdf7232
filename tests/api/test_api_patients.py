"""Patients over the API: the clinic's own only, front desk without clinical fields, audited."""

from __future__ import annotations

import pytest

from dermis.web.clinic.models import AuditEvent, Patient

PATIENTS = "/api/v1/patients"


def test_list_shows_only_the_clinics_patients(world, api_as):
    response = api_as("pat").get(PATIENTS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [p["family_name"] for p in body["items"]] == ["Quinn"]


def test_list_filters_and_paginates(world, api_as):
    for i in range(3):
        Patient.objects.create(
            clinic=world.northgate,
            given_name=f"Ann{i}",
            family_name="Lee",
            date_of_birth="1990-01-0" + str(i + 1),
        )
    client = api_as("fran")

    page = client.get(PATIENTS, q="lee", limit=2, offset=1).json()
    by_dob = client.get(PATIENTS, date_of_birth="1990-01-02").json()

    assert page["count"] == 3 and page["limit"] == 2 and page["offset"] == 1
    assert [p["given_name"] for p in page["items"]] == ["Ann1", "Ann2"]
    assert [p["given_name"] for p in by_dob["items"]] == ["Ann1"]


def test_create_sets_the_clinic_and_audits(world, api_as):
    body = {"given_name": "Ada", "family_name": "Byron", "date_of_birth": "1991-12-10"}

    response = api_as("fran").post(PATIENTS, body)

    assert response.status_code == 201
    patient = Patient.objects.get(pk=response.json()["id"])
    assert patient.clinic == world.northgate
    event = AuditEvent.objects.get(patient_id_ref=patient.pk, action="create")
    assert event.username == "fran" and "Byron" not in event.summary


def test_validation_error_is_problem_json_naming_the_field(world, api_as):
    body = {"given_name": "Ada", "family_name": "Byron", "date_of_birth": "10/12/1991"}

    response = api_as("pat").post(PATIENTS, body)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["instance"] == PATIENTS
    assert [e["field"] for e in problem["errors"]] == ["body.date_of_birth"]
    assert set(problem) == {"type", "title", "status", "detail", "instance", "errors"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"given_name": "A", "family_name": "B", "date_of_birth": "1991-01-01", "x": 1}, "body.x"),
        (
            {"given_name": "A\x00", "family_name": "B", "date_of_birth": "1991-01-01"},
            "body.given_name",
        ),
        (
            {"given_name": "A", "family_name": "B", "date_of_birth": "1800-01-01"},
            "body.date_of_birth",
        ),
        (
            {"given_name": "A", "family_name": "B", "date_of_birth": "1991-01-01", "email": "no"},
            "body.email",
        ),
        ({"family_name": "B", "date_of_birth": "1991-01-01"}, "body.given_name"),
    ],
)
def test_each_bad_field_is_named(world, api_as, body, field):
    response = api_as("pat").post(PATIENTS, body)

    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_body_that_is_not_json_is_a_400_problem(world, api_as):
    response = api_as("pat").post(PATIENTS, "{not json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_front_desk_never_sees_or_sets_the_phototype(world, api_as):
    world.nora.fitzpatrick = "IV"
    world.nora.save()
    url = f"{PATIENTS}/{world.nora.pk}"

    assert api_as("pat").get(url).json()["fitzpatrick"] == "IV"
    assert api_as("fran").get(url).json()["fitzpatrick"] is None
    assert api_as("fran").patch(url, {"fitzpatrick": None}).status_code == 403
    world.nora.refresh_from_db()
    assert world.nora.fitzpatrick == "IV"


def test_update_changes_only_what_was_sent(world, api_as):
    url = f"{PATIENTS}/{world.nora.pk}"

    # a practitioner: front desk may not replace a phone number (tests/web/test_contact_changes.py)
    response = api_as("pat").patch(url, {"phone": "0113 496 0000"})

    assert response.status_code == 200
    world.nora.refresh_from_db()
    assert (world.nora.phone, world.nora.email) == ("0113 496 0000", "nora@example.org")
    assert AuditEvent.objects.filter(patient_id_ref=world.nora.pk, action="update").exists()


def test_get_audits_the_view(world, api_as):
    api_as("pat").get(f"{PATIENTS}/{world.nora.pk}")

    event = AuditEvent.objects.get(patient_id_ref=world.nora.pk, action="view")
    assert event.username == "pat" and event.path == f"{PATIENTS}/{world.nora.pk}"


@pytest.mark.parametrize("persona", ["pat", "fran", "alice"])
def test_another_clinics_patient_is_404(world, api_as, persona):
    response = api_as(persona).get(f"{PATIENTS}/{world.rhys.pk}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert "Owen" not in response.content.decode()


def test_missing_and_foreign_ids_answer_alike(world, api_as):
    foreign = api_as("pat").get(f"{PATIENTS}/{world.rhys.pk}")
    missing = api_as("pat").get(f"{PATIENTS}/987654")

    assert foreign.json()["detail"] == missing.json()["detail"]


def test_a_user_without_a_clinic_is_refused(world, api_as):
    response = api_as("nobody").get(PATIENTS)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
