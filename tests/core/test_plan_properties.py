"""Invariants of the planner for any valid assessment (hypothesis)."""

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermis.core.knowledge import Severity, load_knowledge
from dermis.core.patient import Assessment, Intake, Patient
from dermis.core.planning import plan as make_plan
from dermis.core.planning import protocol_for
from dermis.core.screening import screen

KB = load_knowledge()
TIPS = ("fine", "medium", "coarse")
TODAY = date(2026, 11, 23)
AREAS = sorted(KB.areas)


@st.composite
def concerns(draw):
    concern = draw(st.sampled_from(sorted(KB.concerns)))
    scale = KB.scales[KB.concerns[concern].scale]
    severity = draw(st.floats(scale.min, scale.max, allow_nan=False))
    return {"area": draw(st.sampled_from(AREAS)), "concern": concern, "severity": severity}


recent_date = st.dates(TODAY - timedelta(days=400), TODAY)
FREE_TEXT = [
    "warfarin 5 mg",
    "Plavix",
    "Roaccutane 20 mg",
    "Humira",
    "prednisolone 30 mg",
    "BCC left cheek",
    "psoriasis",
    "permanent filler in lips",
    "lupus",
    "pregnant",
    "vitamin D",
    "fish oil",
]
procedures = st.builds(
    dict,
    kind=st.sampled_from(["filler", "laser", "chemical_peel", "botulinum_toxin", "surgery"]),
    date=recent_date,
    areas=st.lists(st.sampled_from(AREAS), max_size=2),
)
intakes = st.builds(
    Intake,
    pregnant=st.booleans(),
    isotretinoin_last_dose=st.none() | recent_date,
    anticoagulants=st.booleans(),
    keloid_history=st.booleans(),
    hypertrophic_scar_history=st.booleans(),
    active_infection_areas=st.lists(st.sampled_from(AREAS), max_size=2),
    active_acne_areas=st.lists(st.sampled_from(AREAS), max_size=2),
    herpes_simplex_history=st.booleans(),
    immunosuppressed=st.booleans(),
    diabetes=st.sampled_from(["none", "controlled", "uncontrolled"]),
    metal_allergy=st.booleans(),
    rosacea=st.booleans(),
    recent_tan_or_sunburn=st.none() | recent_date,
    telangiectasia=st.booleans(),
    isotretinoin_current=st.booleans(),
    active_herpes_areas=st.lists(st.sampled_from(AREAS), max_size=1),
    recent_procedures=st.lists(procedures, max_size=2),
    medications=st.lists(st.sampled_from(FREE_TEXT), max_size=3),
    medical_history=st.lists(st.sampled_from(FREE_TEXT), max_size=2),
    allergies=st.lists(st.sampled_from(["nickel", "gold", "titanium", "lidocaine"]), max_size=2),
)
patients = st.builds(
    Patient,
    age=st.integers(16, 90),
    fitzpatrick=st.sampled_from(["I", "II", "III", "IV", "V", "VI"]),
)
assessments = st.builds(
    Assessment,
    concerns=st.lists(concerns(), min_size=1, max_size=4),
    skin_thickness=st.sampled_from(["thin", "normal", "thick"]),
    preferred_modality=st.none() | st.sampled_from(["microneedling", "microdermabrasion"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients, intakes, assessments)
def test_plan_invariants(patient, intake, assessment):
    screening = screen(patient, intake, KB, TODAY)
    result = make_plan(patient, assessment, screening, KB)
    planned = {(t.area, t.concern) for c in result.courses for t in c.treatments}
    refused = {d.what for d in result.not_treated}
    wanted = {(c.area, c.concern) for c in assessment.concerns}
    assert planned | {tuple(r.split("/")) for r in refused} == wanted
    assert result.status == ("not_safe" if not planned else "partial" if refused else "ok")

    for course in result.courses:
        for decision in (*course.decisions, *course.serums):
            assert decision.citations
        for f in screening.blocking(course.modality, ""):
            assert f.until is not None and course.earliest_start >= f.until
        for t in course.treatments:
            # never over an absolute contraindication (or only after its date); an area-scoped
            # deferral moves only its own treatment (issue 12: a filler deferral blocked every area)
            assert t.earliest_start >= course.earliest_start
            for f in screening.blocking(course.modality, t.area):
                assert f.until is not None
                assert t.earliest_start >= f.until
            # every caution covering the area is applied
            cautions = screening.modifying(course.modality, t.area)
            metals = set(KB.devices[t.device].needle_metals)
            assert not metals & {m for f in cautions for m in f.avoid_metals}
            if course.modality == "microdermabrasion":
                caps = [TIPS.index(f.tip_cap) for f in cautions if f.tip_cap]
                assert TIPS.index(t.tip) <= min(caps, default=2)
                passes = next(d.value for d in t.decisions if d.what == "passes")
                assert passes <= min((f.passes_max for f in cautions if f.passes_max), default=9)
            floors = [f.interval_min_days for f in cautions if f.interval_min_days]
            assert course.interval_days >= max(floors, default=0)
            for d in t.decisions:
                assert d.citations
            protocol = protocol_for(KB, course.modality, t.concern)
            assert protocol.sessions.min <= t.sessions <= protocol.sessions.max
            if course.modality == "microneedling":
                device = KB.devices[t.device]
                profile = KB.concerns[t.concern].depth_profile
                limit = KB.depth_limits[t.area][profile].for_thickness(assessment.skin_thickness)
                assert device.depth_mm.min <= t.depth_mm <= device.depth_mm.max
                assert t.depth_mm <= limit.max
                caps = [
                    f.depth_cap_mm
                    for f in screening.modifying("microneedling", t.area)
                    if f.depth_cap_mm and f.severity is not Severity.ABSOLUTE
                ]
                assert all(t.depth_mm <= cap for cap in caps)
            else:
                assert t.depth_mm is None
                assert t.tip in KB.devices[t.device].tips
        lo = max(
            protocol_for(KB, course.modality, t.concern).interval_days.min
            for t in course.treatments
        )
        assert course.interval_days >= lo
    for refusal in result.not_treated:
        assert refusal.reason and refusal.citations
