"""A stored plan reads back as the same plan; a course answers its areas, settings and interval."""

import json
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermis.core.adjust import Change, adjust, limits
from dermis.core.knowledge import load_knowledge
from dermis.core.patient import Assessment, Intake, Patient
from dermis.core.planning import (
    Course,
    Decision,
    Plan,
    Treatment,
    course_interval_range,
    interval_range,
    protocol_for,
)
from dermis.core.planning import plan as make_plan
from dermis.core.screening import screen
from tests.core.clinical_factories import TODAY, assessment, intake, patient

KB = load_knowledge()
AREAS = sorted(KB.areas)


def stored(value: dict) -> dict:
    """What the database gives back: JSON."""
    return json.loads(json.dumps(value))


def planned(who, answers, needs):
    screening = screen(who, answers, KB, TODAY)
    return make_plan(who, needs, screening, KB), screening


@st.composite
def concerns(draw):
    concern = draw(st.sampled_from(sorted(KB.concerns)))
    scale = KB.scales[KB.concerns[concern].scale]
    severity = draw(st.floats(scale.min, scale.max, allow_nan=False))
    return {"area": draw(st.sampled_from(AREAS)), "concern": concern, "severity": severity}


patients = st.builds(
    Patient, age=st.integers(18, 90), fitzpatrick=st.sampled_from(["I", "II", "IV", "VI"])
)
intakes = st.builds(
    Intake,
    isotretinoin_last_dose=st.none() | st.dates(TODAY - timedelta(days=300), TODAY),
    anticoagulants=st.booleans(),
    hypertrophic_scar_history=st.booleans(),
    active_acne_areas=st.lists(st.sampled_from(AREAS), max_size=1),
    herpes_simplex_history=st.booleans(),
)
assessments = st.builds(
    Assessment,
    concerns=st.lists(concerns(), min_size=1, max_size=4),
    skin_thickness=st.sampled_from(["thin", "normal", "thick"]),
    preferred_modality=st.none() | st.sampled_from(["microneedling", "microdermabrasion"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients, intakes, assessments)
def test_a_stored_plan_reads_back_as_the_same_plan(who, answers, needs):
    proposal, _ = planned(who, answers, needs)
    content = stored(proposal.to_dict())
    assert Plan.from_dict(content).to_dict() == content
    assert Plan.from_dict(proposal.to_dict()) == proposal


def _allowed_changes(draw, bounds: list[dict]) -> list[Change]:
    """Changes a form would offer: values inside each setting's bounds."""
    out = []
    for i, course in enumerate(bounds):
        for what in ("sessions", "interval_days"):
            b = course[what]
            if draw(st.booleans()) and b.lowest is not None and b.highest is not None:
                value = draw(st.integers(int(b.lowest), int(b.highest)))
                out.append(Change(i, what, value, "the patient asked for it"))
        for j, b in enumerate(course["treatments"]):
            if b.choices and draw(st.booleans()):
                what = "tip" if b.what == "tip" else "depth_mm"
                value = draw(st.sampled_from(b.choices))
                out.append(Change(i, what, value, "patch test went well", j))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients, intakes, assessments, st.data())
def test_an_adjusted_plan_reads_back_as_stored(who, answers, needs, data):
    proposal, screening = planned(who, answers, needs)
    bounds = limits(proposal, who, needs, screening, KB)
    changes = _allowed_changes(data.draw, bounds)
    result = adjust(proposal, changes, who, needs, screening, KB)
    content = stored(result.content)
    back = Plan.from_dict(content)
    assert back.to_dict() == content
    for course, c in zip(back.courses, content["courses"], strict=True):
        assert (course.sessions, course.interval_days) == (c["sessions"], c["interval_days"])


def test_the_courses_stored_sessions_and_interval_win_over_its_decisions():
    proposal, _ = planned(patient(), intake(), assessment(("cheeks", "fine_lines", 3)))
    content = stored(proposal.to_dict())
    course = content["courses"][0]
    course["sessions"], course["interval_days"] = 5, 40  # a revision wrote only these
    back = Plan.from_dict(content).courses[0]
    assert (back.sessions, back.interval_days) == (5, 40)
    assert back.decision("sessions").reason == proposal.courses[0].decision("sessions").reason
    assert back.to_dict()["sessions"] == 5


def test_missing_optional_keys_are_tolerated():
    content = {
        "as_of": "2026-11-23",
        "courses": [
            {
                "modality": "microneedling",
                "earliest_start": "2026-12-01",
                "sessions": 3,
                "interval_days": 28,
                "treatments": [{"area": "cheeks", "concern": "fine_lines", "depth_mm": 0.5}],
            }
        ],
    }
    back = Plan.from_dict(content)
    course = back.courses[0]
    assert (course.sessions, course.interval_days) == (3, 28)
    assert course.area_depths() == {"cheeks": 0.5}
    assert back.screening.findings == () and back.not_treated == ()
    assert back.course_for("microneedling") is course
    assert back.course_for("microdermabrasion") is None


def _treatment(area, concern, depth=None, tip=None):
    return Treatment(area, concern, 3, "moderate", "automated_pen", depth, tip, 4, ())


def _course(modality, *treatments):
    decisions = (Decision("sessions", 4, "", ()), Decision("interval_days", 30, "", ()))
    return Course(modality, TODAY, treatments, decisions, (), ())


def test_two_concerns_on_one_area_are_treated_at_the_gentler_setting():
    course = _course(
        "microneedling",
        _treatment("cheeks", "acne_scars_rolling", 1.5),
        _treatment("forehead", "fine_lines", 0.5),
        _treatment("cheeks", "fine_lines", 0.75),
    )
    assert course.areas == ("cheeks", "forehead")
    assert course.area_depths() == {"cheeks": 0.75, "forehead": 0.5}
    assert course.area_tips() == {}
    abrasion = _course(
        "microdermabrasion",
        _treatment("cheeks", "fine_lines", tip="coarse"),
        _treatment("cheeks", "uneven_tone", tip="medium"),
        _treatment("chin", "uneven_tone", tip="coarse"),
    )
    assert abrasion.area_tips() == {"cheeks": "medium", "chin": "coarse"}
    assert abrasion.area_depths() == {}


def test_interval_range_is_the_overlap_or_the_longest_minimum():
    scars = protocol_for(KB, "microneedling", "acne_scars_rolling")
    stretch = protocol_for(KB, "microneedling", "stretch_marks")
    lo, hi, overlaps = interval_range([scars, stretch])
    both_min = max(scars.interval_days.min, stretch.interval_days.min)
    both_max = min(scars.interval_days.max, stretch.interval_days.max)
    assert (lo, hi, overlaps) == (
        (both_min, both_max, True) if both_min <= both_max else (both_min, both_min, False)
    )
    mlo, mhi, _ = interval_range([scars, stretch], "maintenance_interval_days")
    assert mlo == max(scars.maintenance_interval_days.min, stretch.maintenance_interval_days.min)
    assert mhi >= mlo


def test_a_courses_interval_range_comes_from_its_concerns_protocols():
    course = _course(
        "microneedling",
        _treatment("cheeks", "acne_scars_rolling", 1.5),
        _treatment("abdomen", "stretch_marks", 1.5),
    )
    scars = protocol_for(KB, "microneedling", "acne_scars_rolling")
    stretch = protocol_for(KB, "microneedling", "stretch_marks")
    lo, hi, _ = interval_range([scars, stretch])
    assert course_interval_range(course, KB) == (lo, hi)
    default = protocol_for(KB, "microdermabrasion", "default").interval_days
    assert course_interval_range(_course("microdermabrasion"), KB) == (default.min, default.max)


def test_the_planners_interval_is_inside_the_courses_range():
    proposal, _ = planned(
        patient("V"),
        intake(),
        assessment(
            ("cheeks", "fine_lines", 3),
            ("chin", "uneven_tone", 2),
            preferred_modality="microdermabrasion",
        ),
    )
    for course in proposal.courses:
        lo, hi = course_interval_range(course, KB)
        assert lo <= course.interval_days <= hi
        assert course.earliest_start == date(2026, 11, 23)
