"""The consultation form: intake and assessment in, the core's screening and proposal stored."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from django.urls import reverse
from django.utils import timezone

from dermis.core.knowledge import load_knowledge
from dermis.core.patient import PatientFile
from dermis.core.planning import plan
from dermis.core.screening import screen
from dermis.web.clinic.models import AuditEvent, Consultation, Patient, TreatmentPlan
from tests.personas import stored_patient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KB = load_knowledge()


def _shift(value, days: timedelta):
    """Move every date in an example by `days`, so it reads as if written today."""
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    if isinstance(value, date):
        return (value + days).isoformat()
    if isinstance(value, str) and ISO_DATE.match(value):
        return (date.fromisoformat(value) + days).isoformat()
    return value


def load_example(name: str) -> dict:
    path = EXAMPLES / name
    doc = (
        json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    )
    doc.pop("session", None)
    as_of = date.fromisoformat(str(doc.pop("as_of")))
    return _shift(doc, timezone.localdate() - as_of)


def form_data(doc: dict) -> dict:
    """The consultation form as a browser would send it for a patient file's answers."""
    intake, assessment = doc.get("intake", {}), doc["assessment"]
    procedures, concerns = intake.get("recent_procedures", []), assessment["concerns"]
    data = {
        "procedures-TOTAL_FORMS": max(2, len(procedures)),
        "procedures-INITIAL_FORMS": 0,
        "concerns-TOTAL_FORMS": max(4, len(concerns)),
        "concerns-INITIAL_FORMS": 0,
        "fitzpatrick": doc["patient"]["fitzpatrick"],
        "skin_thickness": assessment.get("skin_thickness", "normal"),
        "glogau": assessment.get("glogau") or "",
        "goals": "\n".join(assessment.get("goals", [])),
        "preferred_modality": assessment.get("preferred_modality") or "",
        "diabetes": intake.get("diabetes", "none"),
        "medical_history": "\n".join(intake.get("medical_history", [])),
        "medications": "\n".join(intake.get("medications", [])),
    }
    for key, value in intake.items():
        if value is True:
            data[key] = "on"
        elif key.endswith("_areas") or (isinstance(value, str) and key not in data):
            data[key] = value
    for i, p in enumerate(procedures):
        data.update({f"procedures-{i}-kind": p["kind"], f"procedures-{i}-date": p["date"]})
        data[f"procedures-{i}-areas"] = p.get("areas", [])
    for i, c in enumerate(concerns):
        for field in ("area", "concern", "severity"):
            data[f"concerns-{i}-{field}"] = c[field]
    return data


def patient_like(world, doc: dict) -> Patient:
    """A Northgate patient of the example's age and sex."""
    today = timezone.localdate()
    return stored_patient(
        clinic=world.northgate,
        given_name="Example",
        family_name="Patient",
        date_of_birth=date(today.year - doc["patient"]["age"], 1, 1),
        sex=doc["patient"].get("sex", "f"),
    )


def post(client, patient, data):
    return client.post(reverse("consultation-create", args=[patient.pk]), data)


SAFE_EXAMPLES = [
    "acne-scars-isotretinoin.yaml",
    "keloid-history.yaml",
    "photoaging-fitzpatrick-ii.json",
    "photoaging-fitzpatrick-v.json",
    "stretch-marks-anticoagulants.yaml",
]


@pytest.mark.parametrize("example", SAFE_EXAMPLES)
def test_an_example_patient_is_screened_and_planned_as_the_core_would(world, client_as, example):
    doc = load_example(example)
    patient = patient_like(world, doc)
    response = post(client_as("pat"), patient, form_data(doc))
    consultation = Consultation.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("consultation-detail", args=[consultation.pk])

    # The stored snapshots are exactly what the core answers for the same patient file.
    pf = PatientFile.model_validate({**doc, "as_of": timezone.localdate().isoformat()})
    screening = screen(pf.patient, pf.intake, KB, pf.as_of)
    assert consultation.intake == pf.intake.model_dump(mode="json")
    assert consultation.assessment == pf.assessment.model_dump(mode="json")
    assert consultation.screening == screening.to_dict()
    assert consultation.proposal == plan(pf.patient, pf.assessment, screening, KB).to_dict()
    assert consultation.knowledge_version == KB.version
    assert consultation.status == Consultation.Status.OPEN
    assert consultation.practitioner == world.pat
    patient.refresh_from_db()
    assert patient.fitzpatrick == doc["patient"]["fitzpatrick"]
    assert AuditEvent.objects.filter(action="create", object_type="Consultation").count() == 1

    page = client_as("pat").get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    accept = reverse("consultation-accept", args=[consultation.pk])
    assert f'action="{accept}"' in html
    for finding in screening.findings:
        assert finding.name in html
    cited = {c for course in consultation.proposal["courses"] for d in course["decisions"]
             for c in d["citations"]}  # fmt: skip
    for key in cited:  # every source resolved to its bibliography entry
        assert KB.bibliography[key].citation.replace("'", "&#x27;") in html
    assert AuditEvent.objects.filter(action="view", object_type="Consultation").count() == 1


def test_isotretinoin_defers_the_start_and_says_until_when(world, client_as):
    doc = load_example("acne-scars-isotretinoin.yaml")
    patient = patient_like(world, doc)
    post(client_as("pat"), patient, form_data(doc))
    consultation = Consultation.objects.get()
    (course,) = consultation.proposal["courses"]
    until = date.fromisoformat(doc["intake"]["isotretinoin_last_dose"]) + timedelta(days=181)
    assert date.fromisoformat(course["earliest_start"]) >= until - timedelta(days=3)
    html = client_as("pat").get(reverse("consultation-detail", args=[consultation.pk])).content
    assert b"Defer" in html and b"Recent isotretinoin" in html


def test_a_patient_not_safe_to_treat_gets_no_plan(world, client_as):
    doc = load_example("active-infection-not-safe.yaml")
    patient = patient_like(world, doc)
    post(client_as("pat"), patient, form_data(doc))
    consultation = Consultation.objects.get()
    assert consultation.proposal["status"] == "not_safe"
    assert consultation.status == Consultation.Status.CLOSED
    page = client_as("pat").get(reverse("consultation-detail", args=[consultation.pk]))
    html = page.content.decode()
    assert "Nothing can be planned safely" in html
    assert "Cheeks, acne scars - rolling</strong>: no safe option" in html  # and why
    assert "Active skin infection in the area" in html
    assert reverse("consultation-accept", args=[consultation.pk]) not in html
    refused = client_as("pat").post(reverse("consultation-accept", args=[consultation.pk]), {})
    assert refused.status_code == 302
    assert not TreatmentPlan.objects.exists()


def _minimal(**extra) -> dict:
    data = form_data(
        {
            "patient": {"fitzpatrick": "II", "age": 40},
            "assessment": {
                "concerns": [{"area": "cheeks", "concern": "fine_lines", "severity": 2}]
            },
        }
    )
    data.update(extra)
    return data


def test_a_grade_outside_the_concerns_scale_is_shown_on_that_field(world, client_as):
    data = _minimal(**{"concerns-0-concern": "acne_scars_rolling", "concerns-0-severity": 5})
    response = post(client_as("pat"), world.nora, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_concerns-0-severity_error"' in html
    assert "5 is outside the Goodman &amp; Baron qualitative acne-scar grade (1-4)" in html
    assert "Concern 1: Grade on that scale: " in html  # the summary names the field
    assert not Consultation.objects.exists()
    world.nora.refresh_from_db()
    assert world.nora.fitzpatrick == ""  # nothing saved, not even the phototype


def test_the_error_goes_to_the_row_that_caused_it(world, client_as):
    data = _minimal(
        **{
            "concerns-0-area": "",
            "concerns-0-concern": "",
            "concerns-0-severity": "",
            "concerns-2-area": "forehead",
            "concerns-2-concern": "fine_lines",
            "concerns-2-severity": 9,
        }
    )
    html = post(client_as("pat"), world.nora, data).content.decode()
    assert 'id="id_concerns-2-severity_error"' in html
    assert "9 is outside the Lemperle wrinkle scale" in html


@pytest.mark.parametrize(
    ("extra", "field", "says"),
    [
        ({"fitzpatrick": ""}, "fitzpatrick", "This field is required"),
        ({"concerns-0-area": "", "concerns-0-concern": "", "concerns-0-severity": ""},
         "concerns-0-area", "Add at least one concern"),
        ({"concerns-0-severity": ""}, "concerns-0-severity", "the severity is missing"),
        ({"procedures-0-kind": "laser"}, "procedures-0-date", "Give the date"),
        ({"isotretinoin_last_dose": "someday"}, "isotretinoin_last_dose", "Enter a valid date"),
        ({"active_acne_areas": ["elbow"]}, "active_acne_areas", "Select a valid choice"),
    ],
)  # fmt: skip
def test_form_errors_name_their_field(world, client_as, extra, field, says):
    response = post(client_as("pat"), world.nora, _minimal(**extra))
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in html and says in html
    assert not Consultation.objects.exists()


def test_the_form_carries_over_the_previous_answers(world, client_as):
    doc = load_example("stretch-marks-anticoagulants.yaml")
    post(client_as("pat"), world.nora, form_data(doc))
    html = client_as("pat").get(reverse("consultation-create", args=[world.nora.pk])).content
    assert b"apixaban 5 mg" in html
    assert b'name="anticoagulants" id="id_anticoagulants" checked' in html
    assert b"Check each one with the patient" in html


@pytest.mark.parametrize(
    ("persona", "status"),
    [("pat", 200), ("alice", 200), ("fran", 403), ("nobody", 403), ("oscar", 404),
     ("anonymous", 302)],
)  # fmt: skip
def test_consultation_pages_are_for_this_clinics_clinical_staff(world, client_as, persona, status):
    doc = load_example("keloid-history.yaml")
    post(client_as("pat"), world.nora, form_data(doc))
    consultation = Consultation.objects.get()
    client = client_as(persona)
    create = reverse("consultation-create", args=[world.nora.pk])
    detail = reverse("consultation-detail", args=[consultation.pk])
    for url in (create, detail):
        response = client.get(url)
        assert response.status_code == status
        if status == 302:
            assert response["Location"].startswith(reverse("login"))
    if status != 200:
        assert post(client, world.nora, form_data(doc)).status_code == status
        assert Consultation.objects.count() == 1


def test_a_patient_under_16_is_refused_with_the_reason(world, client_as):
    today = timezone.localdate()
    child = stored_patient(
        clinic=world.northgate,
        given_name="Young",
        family_name="Person",
        date_of_birth=date(today.year - 14, 1, 1),
    )
    response = post(client_as("pat"), child, _minimal())
    html = response.content.decode()
    assert response.status_code == 400
    assert "Date of birth: the planner accepts ages 16 to 110" in html
    assert not Consultation.objects.exists()
