"""The source texts' quantitative statements that belong to the core, one test each.

Seeds: ../shared/seeds (microneedling first session, permanence, rejuvenation; microdermabrasion
permanence). Each test names the sentence it checks.
"""

from datetime import datetime, timedelta

from dermis.core.aftercare import aftercare
from dermis.core.patient import Session
from dermis.core.planning import plan
from dermis.core.screening import screen
from tests.core.clinical_factories import TODAY, assessment, intake, patient

FACE_CONCERNS = [
    "fine_lines",
    "acne_scars_rolling",
    "acne_scars_boxcar",
    "enlarged_pores",
    "uneven_texture",
    "laxity",
]


def _mn_plan(kb, concern, severity):
    scale = kb.scales[kb.concerns[concern].scale]
    # The mildest treatable grade: a scale's "none" grade (Lemperle 0) is not treated (issue 12).
    low = scale.min + 1 if scale.none_at == scale.min else scale.min
    needs = assessment(
        ("cheeks", concern, severity * scale.max + (1 - severity) * low),
        preferred_modality="microneedling",
    )
    return plan(patient(), needs, screen(patient(), intake(), kb, TODAY), kb).courses[0]


def test_most_professionals_suggest_3_to_6_sessions(kb):
    """'Most professionals suggest between 3 to 6 sessions' (first session)."""
    for concern in FACE_CONCERNS:
        counts = {_mn_plan(kb, concern, s).sessions for s in (0.0, 0.5, 1.0)}
        assert min(counts) == 3 and max(counts) == 6, concern


def test_sessions_spaced_several_weeks_apart(kb):
    """'A series of treatments spaced several weeks apart' (first session, rejuvenation)."""
    for concern in FACE_CONCERNS:
        interval = _mn_plan(kb, concern, 0.5).interval_days
        assert 21 <= interval <= 42, concern


def test_maintenance_every_6_to_12_months(kb):
    """'Follow up sessions every 6-12 months after your initial treatment protocol'."""
    for concern in FACE_CONCERNS:
        m = _mn_plan(kb, concern, 0.5).decision("maintenance_interval_days").value
        assert (m["min"], m["max"]) == (180, 365), concern


def test_session_lasts_30_to_60_minutes(kb):
    """'Each session typically lasts 30 to 60 minutes' (rejuvenation)."""
    assert _mn_plan(kb, "fine_lines", 0.5).decision("session_minutes").value == {
        "min": 30,
        "max": 60,
    }


def _care(kb, depth=1.0):
    session = Session(start=datetime(2026, 12, 1, 10, 0), modality="microneedling", depth_mm=depth)
    return {i.rule: i for i in aftercare(session, patient(), intake(), kb).instructions}


def _hours(item) -> float:
    return (item.ends - item.starts) / timedelta(hours=1)


def test_avoid_direct_sun_for_at_least_a_week(kb):
    """'Avoid direct sun for at least a week' (first session)."""
    assert _hours(_care(kb)["sun_avoidance"]) >= 7 * 24


def test_spf_30_reapplied_every_two_hours(kb):
    """'SPF of 30 or higher. Always reapply sunscreen every two hours if you are outside.'"""
    text = _care(kb)["spf"].text
    assert "SPF 30+" in text and "every 2 hours" in text


def test_no_exfoliators_for_at_least_48_hours(kb):
    """'Avoid exfoliators or scrubs for at least 48 hours' (first session)."""
    assert _hours(_care(kb, 0.25)["no_exfoliation"]) >= 48


def test_minimal_routine_without_actives_for_at_least_24_to_48_hours(kb):
    """'For at least 24 to 48 hours ... avoid retinol, AHAs, BHAs or vitamin C'."""
    for depth in (0.25, 1.0, 2.0):
        assert _hours(_care(kb, depth)["no_actives"]) >= 48


def test_redness_like_a_mild_sunburn_subsides_within_a_few_days(kb):
    """'Redness and mild swelling, similar to a light sunburn ... subside within a few days'."""
    for depth in (0.25, 1.0, 2.0):
        care = _care(kb, depth)
        assert "sunburn" in care["expect_redness"].text
        assert _hours(care["expect_redness"]) <= 72
        assert _hours(care["expect_swelling"]) <= 72
