"""A client generated from /api/openapi.json by openapi-python-client (offline, during the run)
drives the whole journey against a live server; and the document passes two linters:
openapi-spec-validator and redocly (`redocly.yaml`)."""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from openapi_spec_validator import validate
from PIL import Image

from tests import factories

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).parents[2]
CONFIG = """\
post_hooks: []
project_name_override: dermis_client
package_name_override: dermis_client
# The photo download answers image/jpeg or image/png: bytes either way.
content_type_overrides:
  image/jpeg: application/octet-stream
  image/png: application/octet-stream
"""
ASSESSMENT = {
    "skin_thickness": "normal",
    "concerns": [{"area": "cheeks", "concern": "acne_scars_rolling", "severity": 3}],
}


@pytest.fixture
def openapi_file(live_server, tmp_path) -> Path:
    schema = requests.get(f"{live_server.url}/api/openapi.json", timeout=30).json()
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(schema))
    return path


def test_openapi_document_passes_both_linters(openapi_file):
    validate(json.loads(openapi_file.read_text()))  # raises on any error
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
    done = subprocess.run(
        [str(ROOT / "node_modules/.bin/redocly"), "lint", str(openapi_file),
         "--config", str(ROOT / "redocly.yaml"), "--format", "json"],
        capture_output=True, cwd=ROOT, env=env, timeout=300, check=False,
    )  # fmt: skip
    report = json.loads(done.stdout)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert errors == [], errors[:5]
    assert done.returncode == 0, done.stderr.decode()[-1000:]


def test_operation_ids_are_unique_and_every_success_has_a_schema(openapi_file):
    schema = json.loads(openapi_file.read_text())
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in schema["paths"].items():
        for method, op in item.items():
            ok = [r for code, r in op["responses"].items() if code.startswith("2")]
            assert ok and all("content" in r for r in ok), (method, path)


@pytest.fixture
def client_package(openapi_file, tmp_path):
    """The generated package, imported; removed from sys.modules afterwards."""
    config = tmp_path / "generator.yaml"
    config.write_text(CONFIG)
    out = tmp_path / "generated"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("openapi-python-client")), "generate",
         "--path", str(openapi_file), "--config", str(config), "--meta", "none",
         "--output-path", str(out / "dermis_client")],
        capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    log = (done.stdout + done.stderr).decode()
    assert done.returncode == 0, log[-2000:]
    assert "Warning" not in log, log[-2000:]  # nothing was left out of the client
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("dermis_client")
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n.split(".")[0] == "dermis_client"]:
            del sys.modules[name]


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "tan").save(out, "JPEG")
    return out.getvalue()


def test_the_generated_client_runs_the_whole_journey(client_package, live_server, world, token_for):
    m = importlib.import_module("dermis_client.models")
    types = importlib.import_module("dermis_client.types")
    factories.working_hours(world.pat)
    client = client_package.AuthenticatedClient(base_url=live_server.url, token=token_for("pat"))

    def ok(tag: str, name: str, **kw):
        """Call an operation; a problem document fails the test with its detail."""
        module = importlib.import_module(f"dermis_client.api.{tag}.{name}")
        response = module.sync_detailed(client=client, **kw)
        assert 200 <= response.status_code < 300, (name, response.content[:500])
        return response.parsed

    # Register, consult, accept the plan with the patient's consent.
    body = m.PatientIn(given_name="Ada", family_name="Byron", date_of_birth=date(1990, 12, 10))
    ada = ok("patients", "create_patient", body=body)
    assert ada.id and ada.family_name == "Byron"
    body = m.ConsultationIn(
        intake=m.Intake.from_dict({}),
        assessment=m.Assessment.from_dict(ASSESSMENT),
        fitzpatrick=m.ConsultationInFitzpatrickType0("II"),
    )
    consultation = ok("consultations", "create_consultation", patient_id=ada.id, body=body)
    body = m.AcceptIn(signer_name="Ada Byron")
    plan = ok("consultations", "accept", consultation_id=consultation.id, body=body)
    assert plan.version == 1
    course = plan.content.additional_properties["courses"][0]
    treatment = course["treatments"][0]

    # Chart and finalise today's first session, with a photo.
    body = m.SessionIn.from_dict(
        {
            "modality": course["modality"],
            "device": treatment["device"],
            "plan_id": plan.id,
            "performed_at": factories.earlier_today(minutes=5).isoformat(),
            "areas": [{"area": treatment["area"], "depth_mm": treatment.get("depth_mm")}],
            "precare_done": True,
            "lot_number": "LOT-7",
            "cartridge": "12-pin",
        }
    )
    session = ok("clinical_record", "create_session", patient_id=ada.id, body=body)
    final = ok("clinical_record", "finalise_session", session_id=session.id,
               body=m.FinaliseIn.from_dict({"version": session.version}))  # fmt: skip
    assert final.status == "final"
    today = timezone.localdate()
    jpeg = types.File(payload=io.BytesIO(_jpeg()), file_name="cheek.jpg", mime_type="image/jpeg")
    body = m.UploadPhotoMultiPartBodyParams(
        file=jpeg, area=treatment["area"], taken_on=today, session_id=session.id,
        consent_for_record=True,
    )  # fmt: skip
    photo = ok("clinical_record", "upload_photo", patient_id=ada.id, body=body)
    image = ok("clinical_record", "download_photo", photo_id=photo.id)
    assert image.payload.read()[:2] == b"\xff\xd8"  # the JPEG, as uploaded

    # Book the rest of the series where the slot finder proposes it.
    proposals = ok("scheduling", "slot_proposals", plan_id=plan.id, earliest=today)
    assert proposals.ok, proposals.reason
    for slot in proposals.proposal.sessions:
        body = m.AppointmentIn(
            patient_id=ada.id, practitioner_id=slot.practitioner_id, start=slot.start,
            end=slot.end, plan_id=plan.id, precare_done=True,
            kind=m.AppointmentInKind("treatment"),
        )  # fmt: skip
        ok("appointments", "create_appointment", body=body)
    listed = ok("appointments", "list_appointments", patient_id=ada.id)
    assert len(listed.items) == len(proposals.proposal.sessions) >= 1

    # Grade, forecast, export.
    body = m.GradeIn(area=treatment["area"], concern=treatment["concern"], grade=2.0,
                     plan_id=plan.id)  # fmt: skip
    assert ok("clinical_record", "create_grade", patient_id=ada.id, body=body).id
    assert ok("clinical_record", "get_forecast", patient_id=ada.id) is not None
    bundle = ok("exchange_and_privacy", "export_fhir", patient_id=ada.id)
    types_ = {e["resource"]["resourceType"] for e in bundle.additional_properties["entry"]}
    wanted = {"Patient", "CarePlan", "Appointment", "Procedure", "Observation", "Consent",
              "DocumentReference"}  # fmt: skip
    assert wanted <= types_
