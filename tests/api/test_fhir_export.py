"""FHIR export: every listed resource, each valid with fhir.resources, references resolved."""

from __future__ import annotations

import importlib
import json
from datetime import datetime

import pytest
from django.utils import timezone
from fhir.resources.bundle import Bundle

from dermis.cli.main import main
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import AuditEvent
from dermis.web.clinic.patients import services as patients
from dermis.web.fhir import codes, export, kept
from dermis.web.fhir.export import patient_bundle
from tests.api.api_records import journey

EXPECTED = {
    "Patient", "Organization", "Practitioner", "PractitionerRole", "Appointment", "CarePlan",
    "ServiceRequest", "Procedure", "Observation", "Consent", "DocumentReference", "Communication",
}  # fmt: skip


@pytest.fixture
def record(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return journey(world.nora, world.pat, settings.PHOTO_ROOT)


def _resources(data: dict) -> list[dict]:
    return [e["resource"] for e in data["entry"]]


def _references(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def test_bundle_round_trips_and_every_resource_validates(record):
    text = patient_bundle(record.consultation.patient).model_dump_json(exclude_none=True)
    data = json.loads(text)

    parsed = Bundle.model_validate_json(text)
    assert parsed.type == "collection"
    assert {r["resourceType"] for r in _resources(data)} == EXPECTED
    for resource in _resources(data):
        module = importlib.import_module(f"fhir.resources.{resource['resourceType'].lower()}")
        getattr(module, resource["resourceType"]).model_validate(resource)


def test_every_reference_points_into_the_bundle(record):
    data = json.loads(patient_bundle(record.consultation.patient).model_dump_json())
    full_urls = {e["fullUrl"] for e in data["entry"]}

    references = _references(data)
    assert references and set(references) <= full_urls
    assert len(full_urls) == len(data["entry"])


def test_sessions_give_device_and_depth_per_body_site(record):
    data = json.loads(patient_bundle(record.consultation.patient).model_dump_json())
    procedures = [r for r in _resources(data) if r["resourceType"] == "Procedure"]

    whole = next(p for p in procedures if "partOf" not in p)
    parts = {p["bodySite"][0]["coding"][0]["code"]: p for p in procedures if "partOf" in p}
    assert whole["status"] == "completed"
    assert whole["used"][0]["concept"]["coding"][0]["code"] == "automated_pen"
    depth = {
        area: next(x for x in p["extension"] if x["url"].endswith("needle-depth"))
        for area, p in parts.items()
    }
    assert depth["cheeks"]["valueQuantity"] == {
        "value": 1.0, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"
    }  # fmt: skip
    assert depth["forehead"]["valueQuantity"]["value"] == 0.5
    cheeks = parts["cheeks"]["bodySite"][0]["coding"]
    assert {"system": codes.SNOMED, "code": "60819002", "display": "Cheek structure"} in cheeks


def test_plan_activities_grades_findings_and_reminders(record):
    data = json.loads(patient_bundle(record.consultation.patient).model_dump_json())
    by_type: dict[str, list] = {}
    for r in _resources(data):
        by_type.setdefault(r["resourceType"], []).append(r)

    plans = {p["title"]: p for p in by_type["CarePlan"]}
    current = plans["Treatment plan, version 2"]
    assert current["status"] == "active" and current["replaces"]
    assert plans["Treatment plan, version 1"]["status"] == "revoked"
    assert len(current["activity"]) == len(by_type["ServiceRequest"]) // 2
    assert any(a.get("performedActivity") for a in current["activity"])
    grade = next(o for o in by_type["Observation"] if o["id"].startswith("grade"))
    assert (
        grade["valueQuantity"]["value"] == 2
        and grade["component"][0]["valueQuantity"]["value"] == 3
    )
    findings = [o for o in by_type["Observation"] if o["id"].startswith("finding")]
    assert len(findings) == len(record.consultation.screening["findings"]) > 0
    assert by_type["Communication"][0]["medium"][0]["coding"][0]["code"] == "EMAILWRIT"
    assert by_type["Consent"][0]["decision"] == "permit"
    assert by_type["DocumentReference"][0]["content"][0]["attachment"]["contentType"] == "image/png"
    assert by_type["Appointment"][0]["status"] == "fulfilled"


def test_api_export_is_fhir_json_and_audited(world, api_as, record):
    response = api_as("pat").get(f"/api/v1/patients/{world.nora.pk}/fhir")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    Bundle.model_validate_json(response.content)
    assert AuditEvent.objects.filter(patient_id_ref=world.nora.pk, action="export").exists()


def test_cli_export_writes_the_same_bundle(world, record, tmp_path):
    out = tmp_path / "nora.json"

    assert main(["export-fhir", str(world.nora.pk), "--output", str(out)]) == 0

    data = json.loads(out.read_text())
    assert data["resourceType"] == "Bundle"
    assert {r["resourceType"] for r in _resources(data)} == EXPECTED
    assert AuditEvent.objects.filter(username="(command line)", action="export").exists()


def test_cli_export_of_an_unknown_patient_fails_cleanly(db, capsys):
    assert main(["export-fhir", "424242"]) == 2
    assert "PATIENT_ID: no patient 424242" in capsys.readouterr().err


def test_a_patient_with_no_record_yet_exports(world):
    data = json.loads(patient_bundle(world.rhys).model_dump_json(exclude_none=True))

    assert [r["resourceType"] for r in _resources(data)] == ["Patient", "Organization"]
    assert _resources(data)[0]["gender"] == "female"


def _fields(rows) -> list[dict]:
    return [{k: v for k, v in vars(o).items() if not k.startswith("_")} for o in rows]


def test_the_exports_lists_are_what_the_patients_related_managers_read(record, world):
    """The export reads its lists through prepared queries: the same rows, fields and order as
    the patient's related managers, each given the patient, appointments their clinic."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dermis.web.clinic.models import Reminder
    from dermis.web.fhir.reads import OF_PATIENT, by_session

    nora = world.nora
    orm = {
        "sessions": nora.sessions.order_by("performed_at", "pk"),
        "appointments": nora.appointments.select_related("clinic").order_by("start", "pk"),
        "consultations": nora.consultations.order_by("created_at", "pk"),
        "plans": nora.plans.order_by("version"),
        "grades": nora.grades.order_by("graded_on", "pk"),
        "consents": nora.consents.order_by("signed_at", "pk"),
        "photos": nora.photos.order_by("taken_on", "pk"),
        "sent reminders": nora.reminders.filter(status=Reminder.Status.SENT).order_by(
            "sent_at", "pk"
        ),
    }
    sessions = list(orm["sessions"])
    split = {"areas": by_session("areas", nora), "addenda": by_session("addenda", nora)}
    for name in ("areas", "addenda"):
        assert any(split[name].values()), f"the journey has {name}"
        for s in sessions:
            got = split[name].get(s.pk, [])
            assert _fields(got) == _fields(getattr(s, name).all()), name
        assert sum(map(len, split[name].values())) == sum(
            getattr(s, name).count() for s in sessions
        )
    assert set(orm) | {"areas", "addenda"} == set(OF_PATIENT)
    for name, rows in orm.items():
        got = OF_PATIENT[name].rows(None, patient=nora.pk, known={"patient": nora})
        assert _fields(got) == _fields(rows), name
        assert got, f"the journey has {name}"
        with CaptureQueriesContext(connection) as seen:
            assert all(o.patient is nora for o in got)
            if name == "appointments":
                assert [a.clinic.name for a in got] == [a.clinic.name for a in rows]
        assert seen.captured_queries == [], name


def _untimed(text: str) -> dict:
    data = json.loads(text)
    return {**data, "timestamp": None}


def test_a_kept_bundle_is_the_one_built_with_the_time_of_each_export(record, world, monkeypatch):
    p = record.consultation.patient
    built = patient_bundle(p).model_dump_json(exclude_none=True)
    first = kept.patient_bundle_json(p)

    def never(*args):
        raise AssertionError("a bundle kept is not built again")

    with monkeypatch.context() as m:
        m.setattr(kept, "bundle_from", never)
        again = kept.patient_bundle_json(p)  # as this process kept it
        kept._BUNDLES.clear()
        shared = kept.patient_bundle_json(p)  # as the shared cache kept it
    assert _untimed(first) == _untimed(again) == _untimed(shared) == _untimed(built)
    stamps = [datetime.fromisoformat(json.loads(t)["timestamp"]) for t in (first, again)]
    assert stamps[0] <= stamps[1] <= timezone.now() and "\x00" not in again
    # Anything the record holds that changes gives a new bundle.
    patients.update_patient(Actor.of_staff(world.pat), p, family_name="Renamed")
    p.refresh_from_db()
    changed = json.loads(kept.patient_bundle_json(p))
    assert changed["entry"][0]["resource"]["name"][0]["family"] == "Renamed"


def test_a_resource_is_written_once_while_it_holds_the_same(record, monkeypatch):
    p = record.consultation.patient
    said = export.patient.said(p, export.Refs(p.clinic))
    monkeypatch.setattr(kept, "_written", type(kept._written)())
    first, again = kept.written(said), kept.written(said)
    assert (
        first
        == again
        == export.patient(p, export.Refs(p.clinic)).model_dump_json(exclude_none=True)
    )
    assert len(kept._written) == 1
    # Holding something else, it is another resource; the oldest kept go first.
    monkeypatch.setattr(kept, "WRITTEN_KEPT", 2)
    for gender in ("other", "male"):
        text = kept.written((said[0], {**said[1], "gender": gender}))
        assert json.loads(text)["gender"] == gender
    assert len(kept._written) == 2 and kept.written(said) == first
