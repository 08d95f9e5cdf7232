"""Consultations through the core, plans, sessions and grades over the API (clinical roles)."""

from __future__ import annotations

import pytest

from dermis.web.clinic.models import AuditEvent, Consultation, FollowUpGrade
from tests.api.api_records import ASSESSMENT, journey


@pytest.fixture
def record(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return journey(world.nora, world.pat, settings.PHOTO_ROOT)


def _consult(world, api, body):
    return api.post(f"/api/v1/patients/{world.nora.pk}/consultations", body)


def test_a_consultation_is_screened_and_planned_by_the_core(world, api_as):
    body = {"intake": {"rosacea": True}, "assessment": ASSESSMENT, "fitzpatrick": "II"}

    response = _consult(world, api_as("pat"), body)

    assert response.status_code == 201, response.content
    data = response.json()
    stored = Consultation.objects.get(pk=data["id"])
    assert stored.practitioner == world.pat and stored.intake["rosacea"] is True
    assert data["proposal"]["status"] in {"ok", "partial", "not_safe"}
    assert data["proposal"]["courses"] and stored.knowledge_version
    assert {f["rule"] for f in data["screening"]["findings"]} == {
        f["rule"] for f in stored.screening["findings"]
    }
    world.nora.refresh_from_db()
    assert world.nora.fitzpatrick == "II"
    assert AuditEvent.objects.filter(object_type="Consultation", action="create").exists()


def test_the_phototype_is_required_when_unknown(world, api_as):
    response = _consult(world, api_as("pat"), {"assessment": ASSESSMENT})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.fitzpatrick"
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"assessment": {"concerns": [{"area": "elbow", "concern": "fine_lines", "severity": 1}]}},
         "body.assessment.concerns[0].area"),
        ({"intake": {"active_acne_areas": ["elbow"]}}, "body.intake.active_acne_areas[0]"),
        ({"intake": {"isotretinoin_last_dose": "0001-01-01"}},
         "body.intake.isotretinoin_last_dose"),
        ({"intake": {"medications": ["a\u0000b"]}}, "body.intake.medications[0]"),
        ({"intake": {"smoker": True}}, "body.intake.smoker"),
        ({"assessment": {"concerns": []}}, "body.assessment.concerns"),
    ],
)  # fmt: skip
def test_core_and_schema_errors_name_the_field(world, api_as, change, field):
    body = {"assessment": ASSESSMENT, "fitzpatrick": "III", **change}

    response = _consult(world, api_as("pat"), body)

    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not Consultation.objects.exists()


def test_front_desk_cannot_see_or_record_consultations(world, api_as, record):
    fran = api_as("fran")

    assert _consult(world, fran, {"assessment": ASSESSMENT}).status_code == 403
    assert fran.get(f"/api/v1/consultations/{record.consultation.pk}").status_code == 403


def test_consultation_detail_and_list(world, api_as, record):
    pat = api_as("pat")

    listed = pat.get(f"/api/v1/patients/{world.nora.pk}/consultations").json()
    detail = pat.get(f"/api/v1/consultations/{record.consultation.pk}").json()

    assert [c["id"] for c in listed] == [record.consultation.pk]
    assert (
        detail["intake"]["rosacea"] is True and detail["proposal"] == record.consultation.proposal
    )
    assert api_as("oscar").get(f"/api/v1/consultations/{record.consultation.pk}").status_code == 404


def test_plan_versions_newest_first(world, api_as, record):
    plans = api_as("pat").get(f"/api/v1/patients/{world.nora.pk}/plans").json()
    one = api_as("alice").get(f"/api/v1/plans/{record.plan.pk}").json()

    assert [(p["version"], p["status"]) for p in plans] == [(2, "active"), (1, "superseded")]
    assert one["previous_id"] == plans[1]["id"] and one["consent_id"] == record.consent.pk
    assert api_as("oscar").get(f"/api/v1/plans/{record.plan.pk}").status_code == 404


def test_sessions_carry_areas_and_addenda_and_are_audited(world, api_as, record):
    session = api_as("pat").get(f"/api/v1/sessions/{record.session.pk}").json()

    assert {a["area"]: a["depth_mm"] for a in session["areas"]} == {"cheeks": 1.0, "forehead": 0.5}
    assert session["addenda"][0]["text"] == "Mild redness on day 2."
    assert AuditEvent.objects.filter(
        action="view", object_type="TreatmentSession", object_id=str(record.session.pk)
    ).exists()
    listed = api_as("pat").get(f"/api/v1/patients/{world.nora.pk}/sessions").json()
    assert [s["id"] for s in listed] == [record.session.pk]


def test_a_grade_is_checked_against_its_scale(world, api_as, record):
    url = f"/api/v1/patients/{world.nora.pk}/grades"
    good = {
        "area": "cheeks",
        "concern": "acne_scars_rolling",
        "grade": 1,
        "plan_id": record.plan.pk,
    }

    created = api_as("pat").post(url, good)
    too_high = api_as("pat").post(url, good | {"grade": 99})
    wrong_plan = api_as("pat").post(url, good | {"plan_id": 999999})

    assert created.status_code == 201 and created.json()["scale"]
    assert FollowUpGrade.objects.filter(pk=created.json()["id"], graded_by=world.pat.user).exists()
    assert too_high.status_code == 422 and too_high.json()["errors"][0]["field"] == "body.grade"
    assert wrong_plan.json()["errors"][0]["field"] == "body.plan_id"
    grades = api_as("pat").get(url).json()
    assert [g["grade"] for g in grades] == [2.0, 1.0]


def test_an_age_outside_the_cores_range_names_as_of(world, api_as):
    body = {"assessment": ASSESSMENT, "fitzpatrick": "III", "as_of": "1990-01-01"}

    response = _consult(world, api_as("pat"), body)

    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "body.as_of" and "the patient is 4 on 1990-01-01" in error["message"]


def test_forecast_follows_the_plan_sessions_and_grades(world, api_as, record):
    response = api_as("pat").get(f"/api/v1/patients/{world.nora.pk}/forecast")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["available"] is True, data["reason"]
    assert data["modality"] == "microneedling" and data["sessions_done"] == [0]
    curve = data["forecast"]["improvement"]
    assert len(curve["p50"]) == len(data["forecast"]["days"])
    assert all(
        lo <= mid <= hi
        for lo, mid, hi in zip(curve["p10"], curve["p50"], curve["p90"], strict=True)
    )
    assert AuditEvent.objects.filter(patient_id_ref=world.nora.pk, summary="api: forecast").exists()


def test_no_forecast_before_a_plan_says_why(world, api_as):
    data = api_as("pat").get(f"/api/v1/patients/{world.nora.pk}/forecast").json()

    assert data["available"] is False and data["reason"] and data["forecast"] is None
    assert api_as("fran").get(f"/api/v1/patients/{world.nora.pk}/forecast").status_code == 403
