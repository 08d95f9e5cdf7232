"""Accepting a proposal and revising a plan over the API: the same service as the pages."""

from __future__ import annotations

from dermis.web.clinic.consultations.consent_texts import consent_for
from dermis.web.clinic.models import AuditEvent, ConsentRecord, TreatmentPlan
from tests import factories


def test_a_typed_name_accepts_the_proposal_unchanged(world, api_as):
    consultation = factories.consultation(world.pat, world.nora)

    response = api_as("pat").post(
        f"/api/v1/consultations/{consultation.pk}/accept", {"signer_name": "Nora Quinn"}
    )

    assert response.status_code == 201, response.content
    plan = TreatmentPlan.objects.get(pk=response.json()["id"])
    assert plan.version == 1 and plan.content == consultation.proposal
    consent = ConsentRecord.objects.get()
    assert consent.text == consent_for(["microneedling"]).text
    assert consent.signer_name == "Nora Quinn" and bytes(consent.signature_png) == b""
    assert AuditEvent.objects.filter(action="sign", object_type="ConsentRecord").exists()


def test_a_typed_name_must_be_the_patients(world, api_as):
    consultation = factories.consultation(world.pat, world.nora)

    response = api_as("pat").post(
        f"/api/v1/consultations/{consultation.pk}/accept", {"signer_name": "Someone Else"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.signer_name"
    assert not TreatmentPlan.objects.exists()


def test_an_adjustment_outside_the_safe_bounds_is_refused_with_its_limit(world, api_as):
    consultation = factories.consultation(world.pat, world.nora)
    body = {
        "signer_name": "Nora Quinn",
        "adjustments": [
            {"course": 0, "treatment": 0, "what": "depth_mm", "value": 3.0, "reason": "deep scars"}
        ],
    }

    response = api_as("pat").post(f"/api/v1/consultations/{consultation.pk}/accept", body)

    assert response.status_code == 422
    assert "depth_mm" in response.json()["errors"][0]["field"]
    assert not TreatmentPlan.objects.exists()


def test_accepting_twice_is_a_conflict(world, api_as):
    consultation = factories.consultation(world.pat, world.nora)
    url = f"/api/v1/consultations/{consultation.pk}/accept"
    assert api_as("pat").post(url, {"signer_name": "Nora Quinn"}).status_code == 201

    again = api_as("pat").post(url, {"signer_name": "Nora Quinn"})

    assert again.status_code == 409
    assert TreatmentPlan.objects.count() == 1


def test_revising_makes_a_new_version(world, api_as):
    plan = factories.accepted_plan(world.pat, world.nora)
    sessions = plan.content["courses"][0]["sessions"]
    body = {
        "changes": [
            {"course": 0, "what": "sessions", "value": sessions + 1, "reason": "slow response"}
        ],
        "note": "one more",
    }

    response = api_as("pat").post(f"/api/v1/plans/{plan.pk}/revise", body)

    assert response.status_code == 201, response.content
    assert response.json()["version"] == 2
    plan.refresh_from_db()
    assert plan.status == TreatmentPlan.Status.SUPERSEDED
    assert api_as("pat").post(f"/api/v1/plans/{plan.pk}/revise", body).status_code == 409


def test_front_desk_cannot_accept_or_revise(world, api_as):
    consultation = factories.consultation(world.pat, world.nora)
    url = f"/api/v1/consultations/{consultation.pk}/accept"
    assert api_as("fran").post(url, {"signer_name": "Nora Quinn"}).status_code == 403
