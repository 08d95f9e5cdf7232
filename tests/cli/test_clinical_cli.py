"""`dermis screen|plan|aftercare|knowledge check`: reports, JSON, one-line errors, exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dermis.cli.main import main

EXAMPLES = Path(__file__).parents[2] / "examples"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir()))
def test_every_example_plans_with_citations_on_every_decision(capsys, example):
    code, out, _ = run(capsys, "plan", str(EXAMPLES / example), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["status"] in {"ok", "partial", "not_safe"}
    for course in data["courses"]:
        for decision in course["decisions"] + course["serums"]:
            assert decision["citations"], decision
        for t in course["treatments"]:
            assert all(d["citations"] for d in t["decisions"])
            if course["modality"] == "microneedling":
                assert isinstance(t["depth_mm"], float)
    for refusal in data["not_treated"]:
        assert refusal["citations"]


def test_plan_json_for_the_isotretinoin_case(capsys):
    _, out, _ = run(capsys, "plan", str(EXAMPLES / "acne-scars-isotretinoin.yaml"), "--json")
    course = json.loads(out)["courses"][0]
    assert course["modality"] == "microneedling"
    assert course["earliest_start"] == "2027-03-20"
    depths = {t["concern"]: t["depth_mm"] for t in course["treatments"]}
    assert depths == {"acne_scars_rolling": 1.25, "acne_scars_boxcar": 1.0, "uneven_texture": 0.25}


def test_screen_report_is_readable(capsys):
    code, out, _ = run(capsys, "screen", str(EXAMPLES / "keloid-history.yaml"))
    assert code == 0
    assert "ABSOLUTE" in out and "Keloid scarring history" in out and "[alam2014" in out


def test_screen_date_option_moves_the_deferral_window(capsys):
    path = str(EXAMPLES / "acne-scars-isotretinoin.yaml")
    _, before, _ = run(capsys, "screen", path, "--json", "--date", "2027-03-19")
    _, after, _ = run(capsys, "screen", path, "--json", "--date", "2027-03-20")
    assert [f["rule"] for f in json.loads(before)["findings"]].count("isotretinoin") == 2
    assert "isotretinoin" not in [f["rule"] for f in json.loads(after)["findings"]]


def test_aftercare_from_the_file_and_with_overrides(capsys):
    path = str(EXAMPLES / "photoaging-fitzpatrick-v.json")
    code, out, _ = run(capsys, "aftercare", path, "--json")
    data = json.loads(out)
    assert code == 0 and data["session_end"] == "2027-02-03T15:00"
    assert any(p["rule"] == "antiviral_start" for p in data["precare"])
    code, out, _ = run(capsys, "aftercare", path, "--json", "--depth-mm", "2.0")
    actives = next(i for i in json.loads(out)["instructions"] if i["rule"] == "no_actives")
    assert actives["ends"] == "2027-02-10T15:00"
    code, out, _ = run(capsys, "aftercare", path)
    assert "Day 0 - Wed 03 Feb 2027" in out and "Call the clinic if:" in out


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("patient: {age: 30}\n", "patient.fitzpatrick"),
        ("patient: {age: 30, fitzpatrick: VII}\n", "patient.fitzpatrick"),
        (
            "patient: {age: 30, fitzpatrick: II}\nintake: {isotretinoin_last_dose: soon}\n",
            "intake.isotretinoin_last_dose",
        ),
        ("patient: {age: 30, fitzpatrick: II}\nintake: {smoker: true}\n", "intake.smoker"),
        ("patient: {age: 30, fitzpatrick: II}\n", "assessment"),
        (
            "patient: {age: 30, fitzpatrick: II}\nassessment:\n  concerns:\n"
            "    - {area: cheeks, concern: acne_scars_rolling, severity: 9}\n",
            "assessment.concerns[0].severity",
        ),
        ("- just a list\n", "FILE"),
        ("patient: {age: [\n", "FILE"),
    ],
)
def test_bad_patient_file_is_one_line_naming_the_field(capsys, tmp_path, body, field):
    path = tmp_path / "p.yaml"
    path.write_text(body)
    code, out, err = run(capsys, "plan", str(path))
    assert code == 2
    assert out == ""
    assert err.startswith(f"dermis: error: {field}:")
    assert len(err.strip().splitlines()) == 1


def test_missing_file_and_bad_knowledge_file_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "plan", str(tmp_path / "missing.yaml"))
    assert code == 2 and "FILE: no such file" in err
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("aftercare: {no_makeup: {hours: -3}}\n")
    code, _, err = run(
        capsys, "plan", str(EXAMPLES / "keloid-history.yaml"), "--knowledge", str(clinic)
    )
    assert code == 2
    assert f"knowledge file {clinic}: aftercare.no_makeup.hours" in err


def test_knowledge_check_accepts_a_valid_clinic_file(capsys, tmp_path):
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("contraindications: {isotretinoin: {condition: {months: 12}}}\n")
    code, out, _ = run(capsys, "knowledge", "check", str(clinic))
    assert code == 0 and "is valid" in out


def test_installed_command_prints_no_traceback(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"patient": {"age": "old", "fitzpatrick": "II"}}')
    proc = subprocess.run(
        [sys.executable, "-m", "dermis", "screen", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("dermis: error: patient.age:")
