"""Registering someone the clinic already has: the same name (accents and case aside) and date of
birth, or the same email, or the same phone is refused with the candidates until the user confirms
it is a different person. Web and API give the same answer (test_parity_patients.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dermis.web.clinic.models import AuditEvent, Patient

NORA = {"given_name": "Nora", "family_name": "Quinn", "date_of_birth": "1985-03-14", "sex": "f"}
DUPLICATES = {
    "same name and birth": NORA,
    "name without accents or case": {**NORA, "given_name": "NÓRA", "family_name": "quinn"},
    "same email": {**NORA, "given_name": "Eleanor", "email": "NORA@example.org"},
    "same phone, another form": {**NORA, "family_name": "Other", "phone": "+44 7700 900123"},
}
NOT_DUPLICATES = {
    "same name, other birthday": {**NORA, "date_of_birth": "1985-03-15"},
    "another person": {**NORA, "given_name": "Nina", "phone": "07700 900124"},
}


@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_the_page_shows_the_candidates_and_saves_nothing(case, world, client_as):
    before = Patient.objects.count()
    response = client_as("fran").post(reverse("patient-create"), DUPLICATES[case])
    assert response.status_code == 409
    assert [p.pk for p in response.context["candidates"]] == [world.nora.pk]
    assert "confirm_not_duplicate" in response.context["form"].errors
    assert reverse("patient-detail", args=[world.nora.pk]).encode() in response.content
    assert Patient.objects.count() == before


@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_the_api_answers_409_with_the_candidates_ids(case, world, api_as):
    before = Patient.objects.count()
    response = api_as("fran").post("/api/v1/patients", DUPLICATES[case])
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "urn:dermis:problem:possible-duplicate"
    assert problem["errors"][0]["field"] == "body.confirm_not_duplicate"
    assert problem["errors"][0]["candidates"] == [world.nora.pk]
    assert Patient.objects.count() == before


def test_confirming_registers_the_patient_on_the_page(world, client_as):
    body = {**DUPLICATES["same name and birth"], "confirm_not_duplicate": "on"}
    response = client_as("fran").post(reverse("patient-create"), body)
    assert response.status_code == 302
    assert Patient.objects.filter(given_name="Nora").count() == 2
    created = AuditEvent.objects.filter(action="create", object_type="Patient")
    assert created.count() == 1


def test_confirming_registers_the_patient_through_the_api(world, api_as):
    body = {**DUPLICATES["same email"], "confirm_not_duplicate": True}
    response = api_as("fran").post("/api/v1/patients", body)
    assert response.status_code == 201
    assert "confirm_not_duplicate" not in response.json()


@pytest.mark.parametrize("case", sorted(NOT_DUPLICATES))
def test_someone_else_registers_without_a_question(case, world, api_as):
    assert api_as("fran").post("/api/v1/patients", NOT_DUPLICATES[case]).status_code == 201


def test_another_clinics_patient_is_never_a_candidate(world, api_as):
    rhys = {"given_name": "Rhys", "family_name": "Owen", "date_of_birth": "1979-11-02"}
    assert api_as("fran").post("/api/v1/patients", rhys).status_code == 201
