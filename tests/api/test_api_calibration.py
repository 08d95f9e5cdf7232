"""The clinic's own evidence over the API: the report, the parameter sets, refit and revert."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from dermis.web.clinic.models import OutcomeParameterSet
from tests.web.evidence_clinic import evidence_clinic

REPORT = "/api/v1/outcomes/calibration"
SETS = "/api/v1/outcomes/parameter-sets"


@pytest.fixture(autouse=True)
def fast_report(settings, db):
    settings.DERMIS_CALIBRATION_DRAWS = 100
    cache.clear()
    yield
    cache.clear()


def test_the_report_for_each_role(world, api_as):
    evidence_clinic(world.pat, 3)
    for persona in ("alice", "pat"):
        data = api_as(persona).get(REPORT).json()
        assert data["parameter_set"] == "packaged-2026.2" and data["follow_ups"] == 9
        report = data["report"]
        assert report["overall"]["follow_ups"] == 9
        (group,) = report["groups"]
        assert (group["concern"], group["modality"]) == ("acne_scars_rolling", "microneedling")
        assert {"inside_p10_p90", "above_p90", "below_p10"} <= group.keys()
        assert report["refit"] == {
            "allowed": False,
            "reason": "9 usable follow-ups; a refit needs 50",
            "minimum_follow_ups": 50,
            "minimum_patients": 20,
            "minimum_per_group": 20,
        }
    assert api_as("fran").get(REPORT).status_code == 403
    assert api_as("anonymous").get(REPORT).status_code == 401
    other = api_as("oscar").get(REPORT).json()
    assert other == {"parameter_set": "packaged-2026.2", "follow_ups": 0, "report": None}


def test_refit_refused_with_too_few_follow_ups_names_why(world, api_as):
    evidence_clinic(world.pat, 3)
    response = api_as("alice").post(f"{SETS}/refit")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "body.refit"
    assert error["message"] == "not allowed yet: 9 usable follow-ups; a refit needs 50"
    assert api_as("pat").post(f"{SETS}/refit").status_code == 403


def test_refit_list_and_revert(world, api_as):
    evidence_clinic(world.pat, 25)
    response = api_as("alice").post(f"{SETS}/refit")
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["active"] and made["version"].startswith("clinic-") and made["follow_ups"] == 75
    assert made["created_by"] == "alice" and "Refitted from packaged-2026.2" in made["provenance"]
    listed = api_as("pat").get(SETS).json()
    assert [(s["version"], s["active"]) for s in listed] == [
        ("packaged-2026.2", False),
        (made["version"], True),
    ]
    assert api_as("pat").get(REPORT).json()["parameter_set"] == made["version"]
    nora_forecast = api_as("pat").get(f"/api/v1/patients/{world.nora.pk}/forecast").json()
    assert nora_forecast["available"] is False  # Nora has no plan; the graded patients do
    graded = OutcomeParameterSet.objects.get().clinic.patients.exclude(pk=world.nora.pk).first()
    forecast = api_as("pat").get(f"/api/v1/patients/{graded.pk}/forecast").json()
    assert forecast["parameter_set"] == made["version"]
    assert forecast["forecast"]["parameter_set"] == made["version"]
    assert made["version"] in forecast["forecast"]["statement"]

    reverted = api_as("alice").post(f"{SETS}/revert")
    assert reverted.status_code == 200 and reverted.json()["version"] == "packaged-2026.2"
    assert reverted.json()["active"] is True
    forecast = api_as("pat").get(f"/api/v1/patients/{graded.pk}/forecast").json()
    assert forecast["parameter_set"] == "packaged-2026.2"
    assert api_as("oscar").get(SETS).json()[0]["active"] is True  # Riverside: its own sets
