"""Screening: intake -> findings with severity, scope, computed dates and sources."""

import json
from datetime import date

import pytest

from dermis.core.errors import InputError
from dermis.core.knowledge import Severity
from dermis.core.screening import Finding, Screening, add_months, screen
from tests.core.clinical_factories import TODAY, intake, patient


def _find(result, rule, modality):
    return next(f for f in result.findings if f.rule == rule and f.modality == modality)


def test_clear_intake_has_no_findings(kb):
    assert screen(patient(), intake(), kb, TODAY).clear


def test_isotretinoin_two_months_ago_defers_microneedling_to_a_computed_date(kb):
    result = screen(patient(), intake(isotretinoin_last_dose=date(2026, 9, 23)), kb, TODAY)
    finding = _find(result, "isotretinoin", "microneedling")
    assert finding.severity is Severity.ABSOLUTE
    assert finding.until == date(2027, 3, 23)
    assert "defer until 2027-03-23" in finding.action
    assert finding.citations == ("waldman2017", "alam2014")
    assert _find(result, "isotretinoin", "microdermabrasion").severity is Severity.PRECAUTION


def test_isotretinoin_window_over_gives_no_finding(kb):
    result = screen(patient(), intake(isotretinoin_last_dose=date(2026, 5, 23)), kb, TODAY)
    assert not any(f.rule == "isotretinoin" for f in result.findings)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 1, 15), 12, date(2027, 1, 15)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert add_months(start, months) == expected


def test_keloid_history_refuses_microneedling_with_the_reason(kb):
    finding = _find(
        screen(patient(), intake(keloid_history=True), kb, TODAY), "keloid", "microneedling"
    )
    assert finding.severity is Severity.ABSOLUTE
    assert finding.until is None
    assert "keloid" in finding.reason.lower()
    assert "alam2014" in finding.citations


def test_recent_filler_is_scoped_to_the_filled_area(kb):
    answers = intake(
        recent_procedures=[{"kind": "filler", "date": "2026-10-01", "areas": ["perioral"]}]
    )
    result = screen(patient(), answers, kb, TODAY)
    assert result.blocking("microneedling", "perioral")
    assert not result.blocking("microneedling", "cheeks")
    assert result.blocking("microneedling", "perioral")[0].until == date(2027, 4, 1)


def test_latest_of_several_procedures_sets_the_date(kb):
    answers = intake(
        recent_procedures=[
            {"kind": "laser", "date": "2026-07-01"},
            {"kind": "laser", "date": "2026-10-10"},
        ]
    )
    finding = _find(screen(patient(), answers, kb, TODAY), "recent_laser", "microneedling")
    assert finding.until == date(2027, 4, 10)
    assert finding.areas == ()


def test_relative_findings_carry_their_modification(kb):
    result = screen(
        patient(),
        intake(anticoagulants=True, herpes_simplex_history=True, metal_allergy=True),
        kb,
        TODAY,
    )
    assert _find(result, "anticoagulants", "microneedling").depth_cap_mm == 1.0
    assert "reduce depth to 1.0 mm" in _find(result, "anticoagulants", "microneedling").action
    assert "antiviral prophylaxis" in _find(result, "herpes_simplex", "microneedling").action
    assert "patch test first" in _find(result, "metal_allergy", "microneedling").action


def test_recent_tan_defers_both_modalities_two_weeks(kb):
    result = screen(patient(), intake(recent_tan_or_sunburn=date(2026, 11, 20)), kb, TODAY)
    assert {f.modality for f in result.findings if f.rule == "recent_tan"} == {
        "microneedling",
        "microdermabrasion",
    }
    assert all(f.until == date(2026, 12, 4) for f in result.findings if f.rule == "recent_tan")


def test_darker_phototype_gets_pih_precautions(kb):
    dark = screen(patient("V"), intake(), kb, TODAY)
    light = screen(patient("II"), intake(), kb, TODAY)
    assert {f.rule for f in dark.findings} == {"darker_phototype"}
    assert light.clear
    assert all("PIH" in f.action for f in dark.findings)


def test_findings_are_ordered_absolute_first(kb):
    result = screen(patient("VI"), intake(keloid_history=True, rosacea=True), kb, TODAY)
    order = [f.severity for f in result.findings]
    assert order == sorted(
        order, key=[Severity.ABSOLUTE, Severity.RELATIVE, Severity.PRECAUTION].index
    )


def test_unknown_area_names_the_field(kb):
    with pytest.raises(InputError) as err:
        screen(patient(), intake(active_acne_areas=["cheeks", "elbow"]), kb, TODAY)
    assert err.value.field == "intake.active_acne_areas[1]"


def test_a_stored_screening_reads_back_as_the_same_screening(kb):
    answers = intake(
        isotretinoin_last_dose=date(2026, 9, 23),
        anticoagulants=True,
        active_infection_areas=["cheeks"],
    )
    result = screen(patient("V"), answers, kb, TODAY)
    stored = json.loads(json.dumps(result.to_dict()))
    assert Screening.from_dict(stored) == result
    assert Screening.from_dict(stored).to_dict() == stored


def test_a_stored_finding_may_leave_out_optional_keys():
    finding = Finding.from_dict(
        {"rule": "pregnancy", "modality": "microneedling", "severity": "absolute"}
    )
    assert finding.areas == () and finding.until is None and finding.citations == ()
    assert finding.covers("cheeks")
