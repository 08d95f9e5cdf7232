"""Aftercare: a personal day-by-day schedule with absolute times, and pre-care dates."""

from datetime import date, datetime, timedelta

import pytest

from dermis.core.aftercare import aftercare, precare_rules
from dermis.core.errors import InputError
from dermis.core.patient import Session
from tests.core.clinical_factories import intake, patient

START = datetime(2026, 12, 1, 14, 0)
END = START + timedelta(minutes=60)


def care(kb, modality="microneedling", depth=1.0, who=None, answers=None):
    session = Session(start=START, modality=modality, depth_mm=depth)
    return aftercare(session, who or patient(), answers or intake(), kb)


def window(result, rule):
    item = next(i for i in result.instructions if i.rule == rule)
    return item.starts, item.ends


def test_times_are_absolute_from_the_session_end(kb):
    result = care(kb)
    assert result.session_end == datetime(2026, 12, 1, 15, 0)
    assert window(result, "no_makeup") == (END, END + timedelta(hours=24))
    assert window(result, "gentle_cleanser")[0] == datetime(2026, 12, 1, 21, 0)


def test_day_by_day_schedule_starts_on_the_session_day(kb):
    result = care(kb)
    assert result.days[0].date == date(2026, 12, 1)
    assert [d.number for d in result.days] == list(range(len(result.days)))
    day1 = {e.rule: e for e in result.days[1].entries}
    assert day1["no_makeup"].note == "until 15:00"
    assert "no_makeup" not in {e.rule for e in result.days[2].entries}
    # the schedule runs to the end of the last care/avoid instruction (SPF for 2 weeks)
    assert result.days[-1].date == (END + timedelta(hours=336)).date()


@pytest.mark.parametrize(
    ("depth", "actives_days", "exercise_hours"),
    [(0.25, 3, 24), (0.5, 3, 24), (1.0, 5, 48), (1.5, 5, 48), (2.0, 7, 72), (2.5, 7, 72)],
)
def test_windows_grow_with_needle_depth(kb, depth, actives_days, exercise_hours):
    result = care(kb, depth=depth)
    starts, ends = window(result, "no_actives")
    assert ends - starts == timedelta(days=actives_days)
    starts, ends = window(result, "no_exercise_heat_swimming")
    assert ends - starts == timedelta(hours=exercise_hours)


def test_microdermabrasion_uses_the_short_windows(kb):
    result = care(kb, modality="microdermabrasion", depth=None)
    assert window(result, "no_actives")[1] - END == timedelta(days=3)
    assert "cool_compress" not in {i.rule for i in result.instructions}


def test_darker_phototype_gets_four_weeks_of_strict_sun_protection(kb):
    light = {i.rule: i for i in care(kb, who=patient("II")).instructions}
    dark = {i.rule: i for i in care(kb, who=patient("V")).instructions}
    assert "spf" in light and "spf_darker_phototypes" not in light
    assert "spf_darker_phototypes" in dark and "spf" not in dark
    assert dark["spf_darker_phototypes"].ends - END == timedelta(weeks=4)


def test_herpes_history_adds_antiviral_care_and_a_warning(kb):
    plain = {i.rule for i in care(kb).instructions}
    herpes = care(kb, answers=intake(herpes_simplex_history=True))
    rules = {i.rule for i in herpes.instructions}
    assert {"antiviral", "warn_cold_sore"} <= rules
    assert not {"antiviral", "warn_cold_sore"} & plain
    assert "antiviral_start" in {p.rule for p in herpes.precare}


def test_warnings_say_when_to_call_the_clinic(kb):
    texts = " ".join(w.text for w in care(kb).warnings())
    for sign in ("infection", "blisters", "7 days"):
        assert sign in texts


def test_precare_dates_count_back_from_the_session(kb):
    pre = {p.rule: p for p in care(kb).precare}
    assert pre["stop_retinoids"].from_date == date(2026, 11, 28)
    assert pre["no_tanning"].from_date == date(2026, 11, 17)
    assert pre["vitamin_a_c"].days_before == 28


def test_microneedling_without_depth_names_the_field(kb):
    with pytest.raises(InputError) as err:
        care(kb, depth=None)
    assert err.value.field == "session.depth_mm"


def test_precare_rules_tied_to_an_answer_apply_only_when_it_is_known(kb):
    def ids(**kwargs):
        return {rule_id for rule_id, _ in precare_rules("microneedling", kb, **kwargs)}

    unknown = ids()
    assert unknown and all(not kb.precare[r].when for r in unknown)
    herpes = ids(patient=patient(), intake=intake(herpes_simplex_history=True))
    for_herpes = {r for r, rule in kb.precare.items() if rule.when == "herpes_simplex_history"}
    assert for_herpes and herpes - unknown == for_herpes
    assert ids(patient=patient(), intake=intake()) == unknown
