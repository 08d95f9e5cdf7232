"""Invariants of the safety gate for any screening, plan, history and act (hypothesis)."""

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermis.core.aftercare import precare_rules
from dermis.core.gate import Act, ActKind, Context, Override, Recheck, check
from dermis.core.knowledge import Severity, load_knowledge
from dermis.core.patient import Assessment, Intake, Patient, RecentProcedure
from dermis.core.planning import plan as make_plan
from dermis.core.progress import SessionDone, minimum_interval
from dermis.core.screening import Finding, Screening, screen

KB = load_knowledge()
TODAY = date(2026, 12, 1)
AREAS = sorted(KB.areas)
MODALITIES = sorted(KB.modalities)
RULES = [*sorted(KB.contraindications), "healing_wound"]
WAITING = {"finding", "plan_start", "interval", "lead_time", "past"}

recent = st.dates(TODAY - timedelta(days=300), TODAY)
patients = st.builds(
    Patient, age=st.integers(18, 90), fitzpatrick=st.sampled_from(["I", "III", "IV", "VI"])
)
procedures = st.builds(
    RecentProcedure,
    kind=st.sampled_from(["filler", "laser", "chemical_peel", "botulinum_toxin"]),
    date=recent,
    areas=st.lists(st.sampled_from(AREAS), max_size=2),
)
intakes = st.builds(
    Intake,
    pregnant=st.booleans(),
    isotretinoin_last_dose=st.none() | recent,
    anticoagulants=st.booleans(),
    keloid_history=st.booleans(),
    active_infection_areas=st.lists(st.sampled_from(AREAS), max_size=2),
    active_acne_areas=st.lists(st.sampled_from(AREAS), max_size=2),
    herpes_simplex_history=st.booleans(),
    recent_procedures=st.lists(procedures, max_size=2),
    recent_tan_or_sunburn=st.none() | recent,
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
    return Assessment(concerns=items)


@st.composite
def dated_relative(draw):
    """The knowledge base has no dated relative finding yet; a clinic's file may add one."""
    return Finding(
        rule="healing_wound",
        name="Healing wound",
        modality=draw(st.sampled_from(MODALITIES)),
        severity=Severity.RELATIVE,
        areas=tuple(dict.fromkeys(draw(st.lists(st.sampled_from(AREAS), max_size=2)))),
        reason="a wound still healing",
        action="wait until it has healed, or go gently around it",
        until=TODAY + timedelta(days=draw(st.integers(-10, 60))),
        depth_cap_mm=None,
        citations=("dermis_default",),
    )


@st.composite
def cases(draw):
    """A patient, what the clinic knows about them, and an act to check."""
    who, answers = draw(patients), draw(intakes)
    screening = None
    if draw(st.integers(0, 9)):
        as_of = TODAY - timedelta(days=draw(st.integers(0, 150)))
        # screened after every event the intake dates (the core refuses a date in the future)
        events = [p.date for p in answers.recent_procedures]
        events += [d for d in (answers.recent_tan_or_sunburn, answers.isotretinoin_last_dose) if d]
        screening = screen(who, answers, KB, max([as_of, *events]))
    if screening is not None and draw(st.booleans()):
        screening = Screening(screening.as_of, (*screening.findings, draw(dated_relative())))
    accepted = None
    if screening is not None and draw(st.booleans()):
        accepted = make_plan(who, draw(assessments()), screening, KB)
    kind = draw(st.sampled_from(list(ActKind)))
    modality = draw(st.sampled_from(MODALITIES))
    course = accepted.course_for(modality) if accepted else None
    pool = list(course.areas) if course and draw(st.booleans()) else AREAS
    areas = tuple(dict.fromkeys(draw(st.lists(st.sampled_from(pool), max_size=3))))
    on = TODAY + timedelta(days=draw(st.integers(-5, 40) | st.integers(-5, 200)))
    sessions = tuple(
        SessionDone(
            draw(st.sampled_from(MODALITIES)), TODAY - timedelta(days=d), draw(st.booleans())
        )
        for d in draw(st.lists(st.integers(0, 90), max_size=4))
    )
    recheck = None
    if draw(st.booleans()):
        recheck = Recheck(on - timedelta(days=draw(st.integers(0, 10))), draw(st.booleans()))
    found = sorted({f.rule for f in screening.findings}) if screening else []
    overrides = tuple(
        Override(rule, draw(st.sampled_from(["patch test healed, checked today", "ok", ""])))
        for rule in [*found, *draw(st.lists(st.sampled_from(RULES), max_size=2))]
        if draw(st.booleans())
    )
    notice = draw(st.none() | st.integers(0, 60))
    ctx = Context(
        today=TODAY,
        screening=screening,
        plan=accepted,
        sessions=sessions,
        notice_from=TODAY - timedelta(days=notice) if notice is not None else None,
        precare_done=draw(st.booleans()),
        recheck=recheck,
        overrides=overrides,
        max_screening_age_days=draw(st.sampled_from([30, 90, 180])),
        intake=answers if draw(st.booleans()) else None,
        patient=who,
    )
    return Act(kind, modality, on, areas), ctx


def _applies(finding, act):
    return not finding.areas or any(finding.covers(a) for a in act.areas)


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases())
def test_an_allowed_act_breaks_no_rule(case):
    act, ctx = case
    verdict = check(act, ctx, KB)
    assert verdict.allowed == (not verdict.refusals)
    for r in verdict.refusals:
        assert r.citations or r.code == "past"
        assert r.possible_from is None or r.possible_from > act.on
    for r, o in verdict.overridden:
        assert r.overridable and r.rule == o.rule
        finding = next(f for f in ctx.screening.for_modality(act.modality) if f.rule == r.rule)
        assert finding.severity is Severity.RELATIVE
    if not verdict.allowed:
        return

    if ctx.screening is None:
        assert act.kind is ActKind.BOOK and verdict.provisional
    else:
        for f in ctx.screening.for_modality(act.modality):
            if f.severity is Severity.ABSOLUTE and _applies(f, act):
                assert f.until is not None and act.on >= f.until

    if ctx.plan is not None:
        course = ctx.plan.course_for(act.modality)
        assert course is not None
        assert act.on >= course.earliest_start
        assert set(act.areas) <= set(course.areas)

    if act.kind in (ActKind.BOOK, ActKind.CHART, ActKind.FINALISE) and not ctx.precare_done:
        rules = precare_rules(act.modality, KB, ctx.patient, ctx.intake)
        notice = ctx.notice_from or ctx.today
        assert all((act.on - notice).days >= r.days_before for _, r in rules if not r.optional)

    course = ctx.plan.course_for(act.modality) if ctx.plan else None
    low, _ = minimum_interval(act.modality, course, KB)
    for s in ctx.sessions:
        if s.final and s.modality == act.modality and s.on < act.on:
            assert (act.on - s.on).days >= low

    if act.kind is ActKind.BOOK:
        assert act.on >= ctx.today


@SETTINGS
@given(cases())
def test_waiting_until_the_possible_day_lifts_every_refusal_that_waiting_can_lift(case):
    act, ctx = case
    verdict = check(act, ctx, KB)
    day = verdict.possible_from
    if day is None:
        return
    later = check(Act(act.kind, act.modality, day, act.areas), ctx, KB)
    assert not {r.code for r in later.refusals} & WAITING


@SETTINGS
@given(patients, intakes, dated_relative(), st.sampled_from(MODALITIES), st.data())
def test_overrides_lift_only_dated_relative_findings(who, answers, extra, modality, data):
    screening = screen(who, answers, KB, TODAY)
    screening = Screening(TODAY, (*screening.findings, extra))
    reason = "checked the skin with the patient today"
    overrides = tuple(Override(f.rule, reason) for f in screening.findings)
    ctx = Context(TODAY, screening, precare_done=True, overrides=overrides)
    areas = tuple(dict.fromkeys(data.draw(st.lists(st.sampled_from(AREAS), max_size=3))))
    act = Act(ActKind.CHART, modality, TODAY + timedelta(days=data.draw(st.integers(0, 60))), areas)
    verdict = check(act, ctx, KB)
    assert not any(r.overridable for r in verdict.refusals)
    for r, _ in verdict.overridden:
        assert r.rule == "healing_wound" and r.possible_from > act.on
    for f in screening.for_modality(modality):
        pending = f.until is None or act.on < f.until
        if f.severity is Severity.ABSOLUTE and _applies(f, act) and pending:
            assert f.rule in {r.rule for r in verdict.refusals}
