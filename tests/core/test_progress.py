"""How far a course has got: one set of counting rules for booking, recall and the forecast."""

from datetime import date, timedelta

from dermis.core.planning import Course, Decision, Treatment, protocol_for
from dermis.core.progress import (
    SessionDone,
    last_session_on,
    minimum_interval,
    next_session_earliest,
    remaining_sessions,
    sessions_done,
)

START = date(2026, 12, 1)


def course(modality="microneedling", concern="acne_scars_rolling", sessions=4):
    treatment = Treatment("cheeks", concern, 3, "moderate", "automated_pen", 1.0, None, 4, ())
    decisions = (Decision("sessions", sessions, "", ()), Decision("interval_days", 30, "", ()))
    return Course(modality, START, (treatment,), decisions, (), ())


def mn(on, final=True, areas=()):
    return SessionDone("microneedling", on, final, areas)


def test_only_finalised_sessions_of_the_modality_from_the_start_count():
    sessions = [
        mn(date(2026, 11, 20)),  # before the course could start: an earlier course's
        mn(date(2026, 12, 1)),
        mn(date(2027, 1, 1), final=False),  # a draft
        SessionDone("microdermabrasion", date(2027, 1, 2)),
        mn(date(2027, 1, 5)),
    ]
    assert sessions_done(course(), sessions) == 2
    assert remaining_sessions(course(), sessions) == 2


def test_two_records_on_one_day_are_one_visit():
    sessions = [mn(date(2026, 12, 1), areas=("cheeks",)), mn(date(2026, 12, 1), areas=("chin",))]
    assert sessions_done(course(), sessions) == 1


def test_counting_for_one_area_skips_visits_that_did_not_treat_it():
    sessions = [
        mn(date(2026, 12, 1), areas=("cheeks",)),
        mn(date(2027, 1, 1), areas=("chin",)),
        mn(date(2027, 2, 1)),  # areas not recorded: counts
    ]
    assert sessions_done(course(), sessions, area="cheeks") == 2
    assert sessions_done(course(), sessions) == 3


def test_remaining_is_never_negative():
    sessions = [mn(START + timedelta(days=30 * k)) for k in range(6)]
    assert remaining_sessions(course(sessions=4), sessions) == 0


def test_the_last_session_is_the_last_final_one_of_the_modality_from_any_course():
    sessions = [mn(date(2026, 11, 20)), mn(date(2026, 11, 25), final=False)]
    assert last_session_on(course(), sessions) == date(2026, 11, 20)
    assert last_session_on(course(), []) is None


def test_next_session_waits_for_the_protocols_minimum_interval(kb):
    low = protocol_for(kb, "microneedling", "acne_scars_rolling").interval_days.min
    days, sources = minimum_interval("microneedling", course(), kb)
    assert days == low and "harris2015" in sources
    last = date(2026, 12, 10)
    today = date(2026, 12, 12)
    assert next_session_earliest(course(), [mn(last)], kb, today) == last + timedelta(days=low)
    assert next_session_earliest(course(), [], kb, today) == today
    assert next_session_earliest(course(), [], kb, date(2026, 11, 1)) == START
    assert next_session_earliest(course(), [mn(date(2026, 1, 1))], kb, today) == today


def test_without_a_course_the_modalitys_default_protocol_sets_the_interval(kb):
    default = protocol_for(kb, "microdermabrasion", "default")
    days, sources = minimum_interval("microdermabrasion", None, kb)
    assert days == default.interval_days.min
    assert sources == tuple(default.sources)
