"""The safety gate: one question for every act that treats a patient, answered with the rule."""

import json
from datetime import date, timedelta

import pytest

from dermis.core.aftercare import precare_rules
from dermis.core.errors import InputError
from dermis.core.gate import Act, ActKind, Context, Override, Recheck, check
from dermis.core.knowledge import Severity
from dermis.core.planning import course_interval_range
from dermis.core.planning import plan as make_plan
from dermis.core.progress import SessionDone
from dermis.core.screening import Finding, Screening, screen
from tests.core.clinical_factories import assessment, intake, patient

TODAY = date(2026, 12, 1)
MN, MD = "microneedling", "microdermabrasion"


def screened(kb, answers=None, who=None, on=TODAY):
    return screen(who or patient(), answers or intake(), kb, on)


def context(kb, answers=None, who=None, **extra):
    """A patient screened today (with the intake and phototype known)."""
    answers, who = answers or intake(), who or patient()
    values = {"today": TODAY, "screening": screened(kb, answers, who), "intake": answers}
    return Context(**{**values, "patient": who, **extra})


def book(on, modality=MN, areas=()):
    return Act(ActKind.BOOK, modality, on, tuple(areas))


def chart(on=TODAY, modality=MN, areas=("cheeks",)):
    return Act(ActKind.CHART, modality, on, tuple(areas))


def codes(verdict):
    return [r.code for r in verdict.refusals]


# --- Isotretinoin: a dated absolute contraindication ------------------------------------------

ISOTRETINOIN = intake(isotretinoin_last_dose=date(2026, 8, 1))


def test_needling_within_six_months_of_isotretinoin_is_refused_until_the_date(kb):
    verdict = check(book(date(2026, 12, 15)), context(kb, ISOTRETINOIN), kb)
    assert not verdict.allowed
    assert verdict.possible_from == date(2027, 2, 1)
    finding = next(r for r in verdict.refusals if r.code == "finding")
    assert finding.rule == "isotretinoin" and not finding.overridable
    assert finding.field == "start" and finding.citations == ("waldman2017", "alam2014")
    message = verdict.message()
    assert message.startswith("not before 1 Feb 2027 (2027-02-01): Recent isotretinoin")
    assert "waldman2017" in message


def test_needling_on_the_day_the_isotretinoin_window_ends_is_allowed(kb):
    verdict = check(book(date(2027, 2, 1)), context(kb, ISOTRETINOIN), kb)
    assert verdict.allowed and verdict.provisional
    assert verdict.possible_from is None


def test_microdermabrasion_after_isotretinoin_is_allowed_with_the_precaution(kb):
    verdict = check(book(date(2026, 12, 15), MD), context(kb, ISOTRETINOIN), kb)
    assert verdict.allowed
    assert any("Recent isotretinoin" in w and "gentle settings" in w for w in verdict.warnings)


def test_the_accepted_plan_defers_its_course_to_the_same_date(kb):
    screening = screened(kb, ISOTRETINOIN)
    accepted = make_plan(patient(), assessment(("cheeks", "acne_scars_rolling", 3)), screening, kb)
    ctx = context(kb, ISOTRETINOIN, plan=accepted)
    early = check(book(date(2026, 12, 15), areas=["cheeks"]), ctx, kb)
    start = next(r for r in early.refusals if r.code == "plan_start")
    assert start.possible_from == date(2027, 2, 1) and "alam2014" in start.citations
    on_time = check(book(date(2027, 2, 1), areas=["cheeks"]), ctx, kb)
    assert on_time.allowed and not on_time.provisional


# --- Area-scoped findings and overrides --------------------------------------------------------

INFECTED_CHEEKS = intake(active_infection_areas=["cheeks"])


def test_an_infection_on_the_cheeks_blocks_the_cheeks_but_not_the_forehead(kb):
    ctx = context(kb, INFECTED_CHEEKS, precare_done=True)
    cheeks = check(chart(areas=["cheeks", "forehead"]), ctx, kb)
    assert codes(cheeks) == ["finding"]
    refusal = cheeks.refusals[0]
    assert refusal.field == "areas" and refusal.possible_from is None
    assert "on the cheeks:" in refusal.reason and "forehead" not in refusal.reason
    assert cheeks.message().startswith("not possible: Active skin infection")
    assert check(chart(areas=["forehead"]), ctx, kb).allowed


def test_an_area_finding_is_a_warning_while_the_areas_are_not_known(kb):
    verdict = check(book(TODAY + timedelta(days=60)), context(kb, INFECTED_CHEEKS), kb)
    assert verdict.allowed
    assert any(
        w.startswith("Active skin infection in the area on the cheeks") for w in verdict.warnings
    )


def test_an_override_of_an_absolute_finding_is_ignored(kb):
    override = Override("active_infection", "the patient insists, it looks fine to me", "dr a")
    ctx = context(kb, INFECTED_CHEEKS, precare_done=True, overrides=(override,))
    verdict = check(chart(), ctx, kb)
    assert codes(verdict) == ["finding"] and verdict.overridden == ()
    assert any("override of active_infection is ignored" in w for w in verdict.warnings)


def _relative_until(day):
    finding = Finding(
        rule="fresh_wound",
        name="Healing wound",
        modality=MN,
        severity=Severity.RELATIVE,
        areas=(),
        reason="a test rule",
        action=f"wait until {day.isoformat()} or go gently",
        until=day,
        depth_cap_mm=None,
        citations=("dermis_default",),
    )
    return Screening(TODAY, (finding,))


def test_a_dated_relative_finding_can_be_overridden_with_a_written_reason(kb):
    until = TODAY + timedelta(days=20)
    base = context(kb, precare_done=True, screening=_relative_until(until))
    refused = check(chart(), base, kb)
    (refusal,) = refused.refusals
    assert refusal.overridable and refusal.field == "override_reason"
    assert refusal.possible_from == until and refusal.rule == "fresh_wound"

    too_short = Override("fresh_wound", "ok")
    short = check(chart(), Context(**{**base.__dict__, "overrides": (too_short,)}), kb)
    assert not short.allowed and "written reason" in short.refusals[0].reason

    override = Override("fresh_wound", "healed well, checked under magnification", "dr a")
    verdict = check(chart(), Context(**{**base.__dict__, "overrides": (override,)}), kb)
    assert verdict.allowed and verdict.overridden == ((refusal, override),)
    assert check(chart(until), base, kb).allowed  # the date has passed: nothing to override


def test_an_undated_relative_finding_is_a_warning_with_its_action(kb):
    verdict = check(chart(), context(kb, intake(anticoagulants=True), precare_done=True), kb)
    assert verdict.allowed
    assert any(
        w.startswith("Anticoagulants:") and "reduce depth to 1.0 mm" in w for w in verdict.warnings
    )


# --- Pre-care lead times -----------------------------------------------------------------------

HERPES = intake(herpes_simplex_history=True)


def _antiviral(kb):
    return next(r for r, rule in kb.precare.items() if rule.when == "herpes_simplex_history")


@pytest.mark.parametrize("modality", [MN, MD])
def test_the_antiviral_needs_its_days_before_the_session(kb, modality):
    rule = _antiviral(kb)
    days = kb.precare[rule].days_before
    ctx = context(kb, HERPES)
    short = check(book(TODAY + timedelta(days=days - 1), modality), ctx, kb)
    lead = next(r for r in short.refusals if r.rule == rule)
    assert lead.code == "lead_time" and lead.field == "precare_done"
    assert lead.possible_from == TODAY + timedelta(days=days)
    assert kb.precare[rule].text in lead.reason and lead.citations == tuple(
        kb.precare[rule].sources
    )
    enough = check(book(TODAY + timedelta(days=days), modality), ctx, kb)
    assert rule not in {r.rule for r in enough.refusals}


@pytest.mark.parametrize("modality", [MN, MD])
def test_the_longest_pre_care_sets_the_first_bookable_day(kb, modality):
    rules = precare_rules(modality, kb, patient(), HERPES)
    longest = max(r.days_before for _, r in rules if not r.optional)
    ctx = context(kb, HERPES)
    early = check(book(TODAY + timedelta(days=longest - 1), modality), ctx, kb)
    assert set(codes(early)) == {"lead_time"}
    assert early.possible_from == TODAY + timedelta(days=longest)
    assert check(book(TODAY + timedelta(days=longest), modality), ctx, kb).allowed
    done = Context(**{**ctx.__dict__, "precare_done": True})
    assert check(book(TODAY + timedelta(days=1), modality), done, kb).allowed


def test_the_notice_counts_from_when_the_patient_was_told(kb):
    ctx = context(kb, HERPES, notice_from=TODAY - timedelta(days=40))
    assert check(chart(), ctx, kb).allowed
    assert codes(check(chart(), context(kb, HERPES), kb))[0] == "lead_time"


def test_without_the_intake_only_unconditional_pre_care_applies(kb):
    rule = _antiviral(kb)
    ctx = Context(today=TODAY, screening=screened(kb, HERPES))
    verdict = check(book(TODAY + timedelta(days=1)), ctx, kb)
    assert rule not in {r.rule for r in verdict.refusals}
    assert "lead_time" in codes(verdict)


def test_handing_out_pre_care_is_never_held_back_by_its_own_lead_time(kb):
    act = Act(ActKind.PRECARE, MN, TODAY + timedelta(days=1), ("cheeks",))
    assert check(act, context(kb, HERPES), kb).allowed


# --- Intervals ---------------------------------------------------------------------------------


def test_the_next_session_waits_for_the_minimum_interval(kb):
    last = TODAY - timedelta(days=10)
    low = kb.protocols[MN]["default"].interval_days.min
    sessions = (SessionDone(MN, last), SessionDone(MN, TODAY - timedelta(days=2), final=False))
    ctx = context(kb, sessions=sessions, precare_done=True)
    early = check(chart(last + timedelta(days=low - 1)), ctx, kb)
    (refusal,) = early.refusals
    assert refusal.code == "interval" and refusal.possible_from == last + timedelta(days=low)
    assert refusal.citations == tuple(kb.protocols[MN]["default"].sources)
    assert check(chart(last + timedelta(days=low)), ctx, kb).allowed
    # another modality's session does not count
    assert check(chart(TODAY, MD), ctx, kb).allowed


def test_with_a_plan_the_courses_protocols_set_the_interval(kb):
    screening = screened(kb)
    accepted = make_plan(patient(), assessment(("abdomen", "stretch_marks", 3)), screening, kb)
    course = accepted.courses[0]
    low, _ = course_interval_range(course, kb)
    last = TODAY - timedelta(days=low - 1)
    sessions = (SessionDone(course.modality, last),)
    ctx = context(kb, plan=accepted, sessions=sessions, precare_done=True)
    act = chart(TODAY, course.modality, ["abdomen"])
    assert check(act, ctx, kb).possible_from == last + timedelta(days=low)
    assert check(chart(TODAY + timedelta(days=1), course.modality, ["abdomen"]), ctx, kb).allowed


def test_a_second_session_on_the_same_day_is_refused_but_its_aftercare_is_not(kb):
    ctx = context(kb, sessions=(SessionDone(MN, TODAY),), precare_done=True)
    assert codes(check(chart(), ctx, kb)) == ["interval"]
    assert check(Act(ActKind.AFTERCARE, MN, TODAY, ("cheeks",)), ctx, kb).allowed


# --- Screening: none, stale, changed -----------------------------------------------------------


def test_booking_before_any_screening_is_provisional(kb):
    ctx = Context(today=TODAY, screening=None)
    verdict = check(book(TODAY + timedelta(days=30)), ctx, kb)
    assert verdict.allowed and verdict.provisional
    assert any("not screened" in w for w in verdict.warnings)


@pytest.mark.parametrize(
    "kind", [ActKind.CHART, ActKind.FINALISE, ActKind.AFTERCARE, ActKind.PRECARE]
)
def test_treating_without_a_screening_is_refused(kb, kind):
    ctx = Context(today=TODAY, screening=None, precare_done=True)
    verdict = check(Act(kind, MN, TODAY, ("cheeks",)), ctx, kb)
    assert codes(verdict) == ["not_screened"] and verdict.possible_from is None
    assert verdict.refusals[0].citations == ("dermis_default",)


OLD = TODAY - timedelta(days=100)


def test_an_old_screening_needs_the_anything_changed_check_at_the_chair(kb):
    ctx = Context(today=TODAY, screening=screened(kb, on=OLD), precare_done=True)
    stale = check(chart(), ctx, kb)
    assert codes(stale) == ["stale_screening"] and stale.refusals[0].field == "recheck"
    fresh = Context(**{**ctx.__dict__, "recheck": Recheck(TODAY, changed=False)})
    assert check(chart(), fresh, kb).allowed
    too_old = Context(**{**ctx.__dict__, "recheck": Recheck(TODAY - timedelta(days=8), False)})
    assert codes(check(chart(), too_old, kb)) == ["stale_screening"]


def test_booking_on_an_old_screening_warns_about_the_check(kb):
    ctx = Context(today=TODAY, screening=screened(kb, on=OLD), precare_done=True)
    verdict = check(book(TODAY + timedelta(days=1)), ctx, kb)
    assert verdict.allowed
    assert any("'anything changed?' check will be needed" in w for w in verdict.warnings)


def test_the_screening_age_limit_is_the_clinics_setting(kb):
    ctx = Context(
        today=TODAY, screening=screened(kb, on=OLD), precare_done=True, max_screening_age_days=120
    )
    assert check(chart(), ctx, kb).allowed


def test_something_changed_since_the_screening_needs_a_new_consultation(kb):
    recheck = Recheck(TODAY, changed=True, note="started doxycycline")
    verdict = check(chart(), context(kb, recheck=recheck, precare_done=True), kb)
    assert codes(verdict) == ["changed_since_screening"]
    assert "started doxycycline" in verdict.refusals[0].reason
    assert verdict.possible_from is None


# --- Plan, dates, input ------------------------------------------------------------------------


def test_only_the_plans_areas_and_modalities_are_allowed(kb):
    screening = screened(kb)
    needs = assessment(("cheeks", "acne_scars_rolling", 3), preferred_modality=MN)
    accepted = make_plan(patient(), needs, screening, kb)
    ctx = context(kb, plan=accepted, precare_done=True)
    assert check(chart(areas=["cheeks"]), ctx, kb).allowed
    outside = check(chart(areas=["cheeks", "chin"]), ctx, kb)
    assert codes(outside) == ["not_in_plan"] and outside.refusals[0].field == "areas"
    other = check(chart(modality=MD), ctx, kb)
    assert codes(other) == ["not_in_plan"] and other.refusals[0].field == "modality"


def test_charting_without_a_plan_is_allowed_with_a_warning(kb):
    verdict = check(chart(), context(kb, precare_done=True), kb)
    assert verdict.allowed and not verdict.provisional
    assert "charted without an accepted plan" in verdict.warnings


def test_a_booking_in_the_past_is_refused(kb):
    verdict = check(book(TODAY - timedelta(days=1)), context(kb, precare_done=True), kb)
    assert codes(verdict) == ["past"] and verdict.refusals[0].field == "start"


def test_unknown_areas_and_modalities_name_the_field(kb):
    with pytest.raises(InputError) as caught:
        check(chart(areas=["elbow"]), context(kb), kb)
    assert caught.value.field == "areas[0]"
    with pytest.raises(InputError) as caught:
        check(chart(modality="laser"), context(kb), kb)
    assert caught.value.field == "modality"


def test_the_verdict_is_plain_data(kb):
    verdict = check(book(date(2026, 12, 15)), context(kb, ISOTRETINOIN), kb)
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data["allowed"] is False and data["possible_from"] == "2027-02-01"
    assert data["act"] == {"kind": "book", "modality": MN, "on": "2026-12-15", "areas": []}
    assert {r["code"] for r in data["refusals"]} == {"finding"}
    assert data["message"] == verdict.message()


def test_optional_pre_care_never_holds_a_booking(kb):
    optional = [(i, r) for i, r in precare_rules(MN, kb, patient(), HERPES) if r.optional]
    assert optional, "the knowledge base marks optional priming as optional"
    rule_id, rule = optional[0]
    soon = check(book(TODAY + timedelta(days=rule.days_before - 1)), context(kb, HERPES), kb)
    assert rule_id not in {r.rule for r in soon.refusals}
