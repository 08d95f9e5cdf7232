"""`dermis calibration-report`: the table, the JSON, the chart, the refit and bad input."""

import json

import pytest

from dermis.cli.main import main
from dermis.core.outcome.clinic_records import synthetic_clinic


@pytest.fixture(scope="module")
def records_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("clinic") / "records.json"
    rows = [r.to_dict() for r in synthetic_clinic(120, seed=5)]
    path.write_text(json.dumps({"records": rows}), encoding="utf-8")
    return path


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_and_chart(capsys, records_file, tmp_path):
    chart = tmp_path / "calibration.png"
    code, out, _ = run(capsys, "calibration-report", "--records", str(records_file),
                       "--plot", str(chart))  # fmt: skip
    assert code == 0
    assert "inside" in out and "above" in out and "below" in out and "packaged-2026.2" in out
    assert "set aside" in out
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_json(capsys, records_file):
    code, out, _ = run(capsys, "calibration-report", "--records", str(records_file), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["parameter_set"] == "packaged-2026.2"
    assert data["overall"]["follow_ups"] > 120
    assert data["refit"]["allowed"] is True and data["refit"]["minimum_follow_ups"] == 50


def test_refit_writes_a_parameter_set_that_forecasts_name(capsys, records_file, tmp_path):
    out_file = tmp_path / "refit.json"
    code, out, _ = run(capsys, "calibration-report", "--records", str(records_file),
                       "--refit", str(out_file), "--json")  # fmt: skip
    assert code == 0
    version = json.loads(out)["refit"]["result"]["version"]
    assert version.startswith("clinic-")
    assert json.loads(out_file.read_text())["version"] == version
    code, out, _ = run(capsys, "forecast", "--modality", "microneedling", "--concern", "laxity",
                       "--age", "45", "--sessions", "0,28,56", "--draws", "100", "--json",
                       "--parameters", str(out_file))  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["parameter_set"] == version and version in data["statement"]


def test_synthetic_clinic(capsys):
    code, out, _ = run(capsys, "calibration-report", "--synthetic", "30")
    assert code == 0 and "30 patients" in out


def test_too_few_records_refuse_a_refit(capsys, tmp_path):
    path = tmp_path / "few.json"
    path.write_text(json.dumps([r.to_dict() for r in synthetic_clinic(5, seed=1)]))
    code, _, err = run(capsys, "calibration-report", "--records", str(path),
                       "--refit", str(tmp_path / "x.json"))  # fmt: skip
    assert code == 2 and err.startswith("dermis: error: --refit: not allowed yet")


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("not json", "--records"),
        ('{"records": 3}', "--records"),
        ('[{"patient": {"age": 45}, "treatment": {"modality": "microneedling", '
         '"concern": "laxity"}, "sessions": ["2025-01-01"], "grade": {"date": "soon", '
         '"improvement_pct": 30}}]', "records[0].grade.date"),
    ],
)  # fmt: skip
def test_bad_records_name_the_field(capsys, tmp_path, content, field):
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, out, err = run(capsys, "calibration-report", "--records", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"dermis: error: {field}:")
