"""The protocol planner: explained, cited, conservative where it must be, deterministic."""

from datetime import date

import pytest

from dermis.core.errors import InputError
from dermis.core.planning import plan
from dermis.core.screening import screen
from tests.core.clinical_factories import TODAY, assessment, intake, patient


def make_plan(kb, who, answers, needs, when=TODAY):
    return plan(who, needs, screen(who, answers, kb, when), kb)


def treatment(result, area, concern):
    return next(
        t for c in result.courses for t in c.treatments if (t.area, t.concern) == (area, concern)
    )


SCARS = assessment(("cheeks", "acne_scars_rolling", 3), ("forehead", "fine_lines", 3))


def test_every_decision_has_a_reason_and_a_citation(kb):
    result = make_plan(kb, patient(), intake(herpes_simplex_history=True), SCARS)
    decisions = [d for c in result.courses for d in (*c.decisions, *c.serums)]
    decisions += [d for c in result.courses for t in c.treatments for d in t.decisions]
    assert len(decisions) >= 12
    for d in decisions:
        assert d.reason
        assert d.citations
        assert all(c in kb.bibliography for c in d.citations)


def test_fitzpatrick_v_is_shallower_with_pih_precautions_than_fitzpatrick_ii(kb):
    light = make_plan(kb, patient("II"), intake(), SCARS)
    dark = make_plan(kb, patient("V"), intake(), SCARS)
    for area, concern in (("cheeks", "acne_scars_rolling"), ("forehead", "fine_lines")):
        assert treatment(dark, area, concern).depth_mm <= treatment(light, area, concern).depth_mm
    assert (
        treatment(dark, "cheeks", "acne_scars_rolling").depth_mm
        < treatment(light, "cheeks", "acne_scars_rolling").depth_mm
    )
    assert any("PIH" in f.action for f in dark.courses[0].precautions)
    assert not light.courses[0].precautions
    assert dark.courses[0].interval_days >= light.courses[0].interval_days


def test_keloid_history_refuses_microneedling_and_says_why(kb):
    needs = assessment(("jawline", "laxity", 2.5), ("cheeks", "uneven_texture", 2))
    result = make_plan(kb, patient(), intake(keloid_history=True), needs)
    assert result.status == "partial"
    assert [c.modality for c in result.courses] == ["microdermabrasion"]
    (refused,) = result.not_treated
    assert refused.what == "jawline/laxity"
    assert "keloid" in refused.reason.lower()
    assert "alam2014" in refused.citations


def test_isotretinoin_defers_the_microneedling_course_to_the_computed_date(kb):
    needs = assessment(("cheeks", "acne_scars_boxcar", 3))
    result = make_plan(kb, patient(), intake(isotretinoin_last_dose=date(2026, 9, 23)), needs)
    (course,) = result.courses
    assert course.modality == "microneedling"
    assert course.earliest_start == date(2027, 3, 23)
    assert "isotretinoin" in course.decision("earliest_start").reason.lower()


def test_nothing_safe_says_so_and_why(kb):
    needs = assessment(("cheeks", "acne_scars_rolling", 3))
    result = make_plan(kb, patient(), intake(active_infection_areas=["cheeks"]), needs)
    assert result.status == "not_safe"
    assert not result.courses
    assert "infection" in result.not_treated[0].reason


def test_anticoagulants_cap_the_depth(kb):
    needs = assessment(("abdomen", "stretch_marks", 4), skin_thickness="thick")
    capped = make_plan(kb, patient(), intake(anticoagulants=True), needs)
    free = make_plan(kb, patient(), intake(), needs)
    assert treatment(free, "abdomen", "stretch_marks").depth_mm == 2.0
    assert treatment(capped, "abdomen", "stretch_marks").depth_mm == 1.0


def test_severity_moves_depth_and_sessions_within_the_range(kb):
    mild = make_plan(kb, patient(), intake(), assessment(("cheeks", "acne_scars_rolling", 1)))
    severe = make_plan(kb, patient(), intake(), assessment(("cheeks", "acne_scars_rolling", 4)))
    t_mild, t_severe = (treatment(p, "cheeks", "acne_scars_rolling") for p in (mild, severe))
    assert (t_mild.depth_mm, t_severe.depth_mm) == (1.0, 1.5)
    assert (t_mild.sessions, t_severe.sessions) == (3, 6)


def test_microdermabrasion_tip_follows_severity_and_phototype(kb):
    needs = assessment(("cheeks", "uneven_tone", 3))
    assert (
        treatment(make_plan(kb, patient("II"), intake(), needs), "cheeks", "uneven_tone").tip
        == "coarse"
    )
    assert (
        treatment(make_plan(kb, patient("VI"), intake(), needs), "cheeks", "uneven_tone").tip
        == "medium"
    )


def test_preferred_modality_is_honoured_when_suitable(kb):
    needs = assessment(("cheeks", "uneven_tone", 2), preferred_modality="microneedling")
    assert make_plan(kb, patient(), intake(), needs).courses[0].modality == "microneedling"


def test_area_without_a_depth_range_falls_back_or_refuses(kb):
    # No stretch-mark depth range exists for the face: microdermabrasion is the fallback.
    result = make_plan(kb, patient(), intake(), assessment(("cheeks", "stretch_marks", 2)))
    assert result.courses[0].modality == "microdermabrasion"


def test_same_input_same_plan(kb):
    a = make_plan(kb, patient("IV"), intake(herpes_simplex_history=True), SCARS).to_dict()
    b = make_plan(kb, patient("IV"), intake(herpes_simplex_history=True), SCARS).to_dict()
    assert a == b


@pytest.mark.parametrize(
    ("concern", "field", "message"),
    [
        (("elbow", "fine_lines", 2), "assessment.concerns[0].area", "unknown area 'elbow'"),
        (("cheeks", "freckles", 2), "assessment.concerns[0].concern", "unknown concern"),
        (
            ("cheeks", "acne_scars_rolling", 7),
            "assessment.concerns[0].severity",
            "outside the Goodman & Baron",
        ),
    ],
)
def test_bad_assessment_names_the_field(kb, concern, field, message):
    with pytest.raises(InputError) as err:
        make_plan(kb, patient(), intake(), assessment(concern))
    assert err.value.field == field
    assert message in err.value.message
