"""`dermis calibration-report --clinic SLUG`: the clinic's own records from the database."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache

from dermis.cli.main import main
from dermis.web.clinic.models import AuditEvent
from tests.web.evidence_clinic import evidence_clinic


@pytest.fixture(autouse=True)
def fast_report(settings, db):
    settings.DERMIS_CALIBRATION_DRAWS = 100
    cache.clear()
    yield
    cache.clear()


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_json_and_chart_of_a_clinic(world, capsys, tmp_path):
    evidence_clinic(world.pat, 3)
    chart = tmp_path / "calibration.svg"
    code, out, err = run(
        capsys, "calibration-report", "--clinic", "northgate", "--plot", str(chart)
    )
    assert code == 0, err
    assert out.startswith("Northgate Skin Clinic (northgate)")
    assert re.search(r"^acne_scars_rolling +microneedling +9 ", out, re.MULTILINE)
    assert "refit: not yet (9 usable follow-ups; a refit needs 50)" in out
    assert "reading the follow-up grades" in err and "done" in err  # progress on stderr
    assert chart.read_text().lstrip().startswith(("<?xml", "<svg"))
    code, out, _ = run(capsys, "calibration-report", "--clinic", "northgate", "--json")
    data = json.loads(out)
    assert data["clinic"] == "northgate" and data["overall"]["follow_ups"] == 9
    assert data["parameter_set"] == "packaged-2026.2"
    assert AuditEvent.objects.filter(summary="cli: calibration report").count() == 2


def test_unknown_clinic_empty_clinic_and_refit_are_refused(world, capsys):
    code, _, err = run(capsys, "calibration-report", "--clinic", "nowhere")
    assert code == 2 and "--clinic: no clinic with the slug 'nowhere'" in err
    code, _, err = run(capsys, "calibration-report", "--clinic", "riverside")
    assert code == 2 and "Riverside Aesthetics has no usable follow-up grades yet" in err
    code, _, err = run(capsys, "calibration-report", "--clinic", "northgate", "--refit", "x.json")
    assert code == 2 and "--refit: not with --clinic" in err
