"""Practitioner adjustments: inside the knowledge base's limits, or refused with the limit named."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermis.core.adjust import (
    Change,
    OutOfBounds,
    adjust,
    limits,
    screening_from_dict,
)
from dermis.core.errors import InputError
from dermis.core.knowledge import Severity, load_knowledge
from dermis.core.patient import Assessment, Intake, Patient
from dermis.core.planning import plan as make_plan
from dermis.core.planning import protocol_for
from dermis.core.screening import screen
from tests.core.clinical_factories import TODAY, assessment, intake, patient

KB = load_knowledge()
AREAS = sorted(KB.areas)


def planned(who, answers, needs):
    screening = screen(who, answers, KB, TODAY)
    return make_plan(who, needs, screening, KB), screening


CHEEKS = assessment(("cheeks", "fine_lines", 3), ("forehead", "fine_lines", 2))


def run(who, answers, needs, *changes):
    proposal, screening = planned(who, answers, needs)
    return adjust(proposal, list(changes), who, needs, screening, KB)


def test_a_depth_inside_the_range_is_applied_recorded_and_explained():
    result = run(patient(), intake(), CHEEKS, Change(0, "depth_mm", 0.5, "patch test fine", 0))
    t = result.content["courses"][0]["treatments"][0]
    assert t["depth_mm"] == 0.5
    decision = next(d for d in t["decisions"] if d["what"] == "depth_mm")
    assert decision["value"] == 0.5
    assert "patch test fine" in decision["reason"]
    assert "drpen" in decision["citations"]
    assert result.adjustments == [
        {
            "what": "depth_mm",
            "modality": "microneedling",
            "area": "cheeks",
            "concern": "fine_lines",
            "from": 0.75,
            "to": 0.5,
            "reason": "patch test fine",
        }
    ]


def test_the_proposal_is_not_modified():
    proposal, screening = planned(patient(), intake(), CHEEKS)
    before = proposal.to_dict()
    adjust(before, [Change(0, "depth_mm", 0.5, "why", 0)], patient(), CHEEKS, screening, KB)
    assert before == proposal.to_dict()


def test_deeper_than_the_area_allows_is_refused_naming_the_range_and_its_source():
    with pytest.raises(OutOfBounds) as caught:
        run(patient(), intake(), CHEEKS, Change(0, "depth_mm", 1.5, "deeper", 0))
    err = caught.value
    assert err.field == "courses[0].treatments[0].depth_mm"
    assert "usual range for standard treatment on the cheeks, normal skin" in err.message
    assert "(1 mm)" in err.message
    assert "drpen" in err.citations and "[drpen]" in err.message


def test_a_screening_cap_binds_before_the_area_range():
    needs = assessment(("abdomen", "stretch_marks", 3), skin_thickness="thick")
    with pytest.raises(OutOfBounds) as caught:
        run(patient("IV"), intake(anticoagulants=True), needs, Change(0, "depth_mm", 1.5, "x", 0))
    assert "cap for anticoagulants (1 mm)" in caught.value.message
    assert "alam2014" in caught.value.citations
    # the cap leaves no setting in the usual 1.5-2 mm range: shallower settings are allowed
    ok = run(patient("IV"), intake(anticoagulants=True), needs, Change(0, "depth_mm", 0.75, "x", 0))
    assert ok.content["courses"][0]["treatments"][0]["depth_mm"] == 0.75


def test_shallower_than_the_range_and_off_the_device_steps_are_refused():
    with pytest.raises(OutOfBounds, match="below the usual range"):
        run(patient(), intake(), CHEEKS, Change(0, "depth_mm", 0.25, "x", 0))
    with pytest.raises(OutOfBounds, match=r"no 0\.6 mm setting") as caught:
        run(patient(), intake(), CHEEKS, Change(0, "depth_mm", 0.6, "x", 0))
    assert "chu2021" in caught.value.citations


def test_a_tip_stronger_than_the_phototype_allows_is_refused():
    needs = assessment(("cheeks", "uneven_tone", 3), preferred_modality="microdermabrasion")
    with pytest.raises(OutOfBounds) as caught:
        run(patient("V"), intake(), needs, Change(0, "tip", "coarse", "x", 0))
    assert caught.value.field == "courses[0].treatments[0].tip"
    assert "Fitzpatrick V allows at most a medium tip" in caught.value.message
    assert "cohen2016" in caught.value.citations
    with pytest.raises(OutOfBounds, match="not a tip of the Diamond"):
        run(patient("II"), intake(), needs, Change(0, "tip", "sandpaper", "x", 0))
    done = run(patient("II"), intake(), needs, Change(0, "tip", "fine", "sensitive", 0))
    assert done.content["courses"][0]["treatments"][0]["tip"] == "fine"


def test_sessions_and_interval_stay_inside_the_protocol():
    with pytest.raises(OutOfBounds, match="above the microneedling protocol") as caught:
        run(patient(), intake(), CHEEKS, Change(0, "sessions", 9, "x"))
    assert caught.value.field == "courses[0].sessions"
    with pytest.raises(OutOfBounds, match="below"):
        run(patient(), intake(), CHEEKS, Change(0, "interval_days", 14, "x"))
    done = run(
        patient(),
        intake(),
        CHEEKS,
        Change(0, "sessions", 3, "budget"),
        Change(0, "interval_days", 42, "holiday"),
    )
    course = done.content["courses"][0]
    assert (course["sessions"], course["interval_days"]) == (3, 42)
    assert all(t["sessions"] <= 3 for t in course["treatments"])
    assert {r["what"] for r in done.adjustments} == {"sessions", "interval_days"}
    assert all(r["area"] is None for r in done.adjustments)


def test_more_sessions_raise_each_treatment_only_within_its_own_protocol():
    needs = assessment(("cheeks", "fine_lines", 1), ("abdomen", "stretch_marks", 1))
    proposal, screening = planned(patient(), intake(), needs)
    assert proposal.courses[0].sessions == 6
    done = adjust(proposal, [Change(0, "sessions", 8, "x")], patient(), needs, screening, KB)
    by_concern = {t["concern"]: t["sessions"] for t in done.content["courses"][0]["treatments"]}
    assert by_concern == {"fine_lines": 6, "stretch_marks": 8}


def test_a_change_needs_a_reason_and_a_no_op_needs_none():
    with pytest.raises(InputError) as caught:
        run(patient(), intake(), CHEEKS, Change(0, "depth_mm", 0.5, "  ", 0))
    assert caught.value.field == "courses[0].treatments[0].reason"
    same = run(patient(), intake(), CHEEKS, Change(0, "depth_mm", 0.75, "", 0))
    assert same.adjustments == [] and same.changes == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (Change(3, "sessions", 4, "x"), "courses[3]"),
        (Change(0, "depth_mm", 0.5, "x", 7), "courses[0].treatments[7].depth_mm"),
        (Change(0, "tip", "fine", "x", 0), "courses[0].treatments[0].tip"),
        (Change(0, "depth_mm", "deep", "x", 0), "courses[0].treatments[0].depth_mm"),
        (Change(0, "sessions", 4.5, "x"), "courses[0].sessions"),
        (Change(0, "sessions", 4, "x", 0), "courses[0].treatments[0].sessions"),
    ],
)
def test_malformed_changes_name_the_field(change, field):
    with pytest.raises(InputError) as caught:
        run(patient(), intake(), CHEEKS, change)
    assert caught.value.field == field


def test_revisions_keep_one_record_per_setting_against_the_proposal():
    proposal, screening = planned(patient(), intake(), CHEEKS)
    first = adjust(proposal, [Change(0, "depth_mm", 0.5, "a", 0)], patient(), CHEEKS, screening, KB)
    second = adjust(
        first.content,
        [Change(0, "depth_mm", 1.0, "b", 0), Change(0, "interval_days", 35, "c")],
        patient(),
        CHEEKS,
        screening.to_dict(),
        KB,
        history=first.adjustments,
    )
    depth = next(r for r in second.adjustments if r["what"] == "depth_mm")
    assert (depth["from"], depth["to"], depth["reason"]) == (0.75, 1.0, "b")
    assert second.changes[0]["from"] == 0.5
    back = adjust(
        second.content,
        [Change(0, "depth_mm", 0.75, "as proposed", 0)],
        patient(),
        CHEEKS,
        screening,
        KB,
        history=second.adjustments,
    )
    assert [r["what"] for r in back.adjustments] == ["interval_days"]


def test_downtime_follows_the_deepest_adjusted_setting():
    result = run(patient(), intake(), CHEEKS, Change(0, "depth_mm", 0.5, "gentler start", 0))
    downtime = next(
        d for d in result.content["courses"][0]["decisions"] if d["what"] == "downtime_days"
    )
    assert downtime["value"] == {"min": 2, "max": 3}
    assert "0.5 mm" in downtime["reason"]


def test_deeper_than_the_planner_goes_for_darker_skin_is_allowed_with_a_warning():
    result = run(patient("V"), intake(), CHEEKS, Change(0, "depth_mm", 1.0, "tolerated", 0))
    assert result.warnings and "Fitzpatrick V" in result.warnings[0]


def test_stored_screening_round_trips():
    screening = screen(
        patient("IV"), intake(anticoagulants=True, isotretinoin_last_dose=TODAY), KB, TODAY
    )
    assert screening_from_dict(screening.to_dict()) == screening


# --- properties --------------------------------------------------------------------------------

recent = st.dates(TODAY - timedelta(days=400), TODAY)
patients = st.builds(
    Patient,
    age=st.integers(18, 90),
    fitzpatrick=st.sampled_from(["I", "II", "III", "IV", "V", "VI"]),
)
intakes = st.builds(
    Intake,
    isotretinoin_last_dose=st.none() | recent,
    anticoagulants=st.booleans(),
    keloid_history=st.booleans(),
    hypertrophic_scar_history=st.booleans(),
    active_infection_areas=st.lists(st.sampled_from(AREAS), max_size=2),
    active_acne_areas=st.lists(st.sampled_from(AREAS), max_size=2),
    rosacea=st.booleans(),
)
# Fewer outright refusals, so most examples have a course to adjust.
mild_intakes = st.builds(
    Intake,
    anticoagulants=st.booleans(),
    hypertrophic_scar_history=st.booleans(),
    active_acne_areas=st.lists(st.sampled_from(AREAS), max_size=1),
)


@st.composite
def assessments(draw):
    items = []
    for _ in range(draw(st.integers(1, 3))):
        concern = draw(st.sampled_from(sorted(KB.concerns)))
        scale = KB.scales[KB.concerns[concern].scale]
        severity = draw(st.floats(scale.min, scale.max, allow_nan=False))
        items.append(
            {"area": draw(st.sampled_from(AREAS)), "concern": concern, "severity": severity}
        )
    return Assessment(
        concerns=items,
        skin_thickness=draw(st.sampled_from(["thin", "normal", "thick"])),
        preferred_modality=draw(
            st.none() | st.sampled_from(["microneedling", "microdermabrasion"])
        ),
    )


DEPTHS = [0.1, 0.25, 0.5, 0.6, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0]


def draw_changes(draw, content) -> list[Change]:
    """Mostly changes aimed at real courses and treatments, with values near the limits."""
    courses = content["courses"]
    out = []
    for _ in range(draw(st.integers(1, 2))):
        course = 0
        if courses:  # now and then one past the end: no such course
            course = (
                len(courses)
                if draw(st.integers(0, 19)) == 0
                else draw(st.integers(0, len(courses) - 1))
            )
        c = courses[course] if course < len(courses) else {"modality": "", "treatments": [{}]}
        what = draw(st.sampled_from(["setting", "sessions", "interval_days"]))
        treatment = None
        if what == "setting":
            treatment = draw(st.integers(0, len(c["treatments"]) - 1))
            what = "depth_mm" if c["modality"] == "microneedling" else "tip"
        if what == "depth_mm":
            value = draw(st.sampled_from(DEPTHS))
        elif what == "tip":
            value = draw(st.sampled_from(["fine", "medium", "coarse"]))
        else:
            value = draw(st.integers(2, 9) if what == "sessions" else st.integers(7, 45))
        out.append(Change(course, what, value, "practitioner's reason", treatment))
    return out


def _caps(screening, area):
    return [
        f.depth_cap_mm
        for f in screening.modifying("microneedling", area)
        if f.depth_cap_mm and f.severity is not Severity.ABSOLUTE
    ]


def _assert_within_limits(content, who, needs, screening):
    for course in content["courses"]:
        protocols = [
            protocol_for(KB, course["modality"], t["concern"]) for t in course["treatments"]
        ]
        assert max(p.sessions.min for p in protocols) <= course["sessions"]
        assert course["sessions"] <= max(p.sessions.max for p in protocols)
        assert course["interval_days"] >= max(p.interval_days.min for p in protocols)
        assert course["interval_days"] <= max(
            max(p.interval_days.min for p in protocols), min(p.interval_days.max for p in protocols)
        )
        for t, p in zip(course["treatments"], protocols, strict=True):
            assert p.sessions.min <= t["sessions"] <= min(p.sessions.max, course["sessions"])
            if course["modality"] == "microneedling":
                device = KB.devices[t["device"]]
                profile = KB.concerns[t["concern"]].depth_profile
                limit = KB.depth_limits[t["area"]][profile].for_thickness(needs.skin_thickness)
                assert device.depth_mm.min <= t["depth_mm"] <= device.depth_mm.max
                assert t["depth_mm"] <= limit.max + 1e-9
                assert all(t["depth_mm"] <= cap + 1e-9 for cap in _caps(screening, t["area"]))
            else:
                cap = KB.adjustments.phototype[who.fitzpatrick.value].microdermabrasion_tip
                order = ["fine", "medium", "coarse"]
                assert t["tip"] in KB.devices[t["device"]].tips
                assert order.index(t["tip"]) <= order.index(cap)


def _assert_names_field_and_sources(err: InputError) -> None:
    assert err.field.startswith("courses[")
    assert err.message
    if isinstance(err, OutOfBounds):
        assert err.citations
        assert all(c in KB.bibliography for c in err.citations)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients, mild_intakes, assessments(), st.data())
def test_any_accepted_adjustment_stays_within_the_limits(who, answers, needs, data):
    proposal, screening = planned(who, answers, needs)
    changes = draw_changes(data.draw, proposal.to_dict())
    try:
        result = adjust(proposal, changes, who, needs, screening, KB)
    except InputError as err:
        _assert_names_field_and_sources(err)
        return
    _assert_within_limits(result.content, who, needs, screening)
    for record in result.changes:
        assert record["from"] != record["to"] and record["reason"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients, intakes, assessments())
def test_the_planners_own_choices_are_inside_the_bounds_a_form_offers(who, answers, needs):
    proposal, screening = planned(who, answers, needs)
    content = proposal.to_dict()
    _assert_within_limits(content, who, needs, screening)
    for course, bounds in zip(
        content["courses"], limits(content, who, needs, screening, KB), strict=True
    ):
        for what in ("sessions", "interval_days"):
            bounds[what].check(course[what], what)
        for t, b in zip(course["treatments"], bounds["treatments"], strict=True):
            b.check(t["depth_mm"] if course["modality"] == "microneedling" else t["tip"], "t")


def test_a_caution_caps_the_tip_and_floors_the_interval_an_edit_can_choose():
    """Active acne on the cheeks: fine tip only, at least 14 days apart. The planner applies it,
    and a practitioner's edit cannot undo it."""
    needs = assessment(("cheeks", "uneven_tone", 3), preferred_modality="microdermabrasion")
    acne = intake(active_acne_areas=["cheeks"])
    proposal, _ = planned(patient("II"), acne, needs)
    course = proposal.courses[0]
    assert course.treatments[0].tip == "fine" and course.interval_days >= 14
    with pytest.raises(OutOfBounds) as caught:
        run(patient("II"), acne, needs, Change(0, "tip", "medium", "deeper scars", 0))
    assert "at most a fine tip" in caught.value.message
    with pytest.raises(OutOfBounds) as caught:
        run(patient("II"), acne, needs, Change(0, "interval_days", 7, "busy diary"))
    assert "at least 14 days apart" in caught.value.message
    # Without the caution the same edits are inside the bounds.
    done = run(patient("II"), intake(), needs, Change(0, "tip", "medium", "tolerates it", 0))
    assert done.content["courses"][0]["treatments"][0]["tip"] == "medium"
