"""The slot finder: each booking rule, DST days, alternatives, rescheduling, errors naming fields.

Personas: pat works Monday to Friday 09:00-17:00; oscar works Tuesdays and Thursdays 13:00-18:00;
night works Sundays 00:00-04:00 (to land on the clock changes). The clinic is in Europe/London.
"""

import json
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from dermis.core.errors import InputError
from dermis.core.slots import (
    Availability,
    Busy,
    ResourceKind,
    SeriesRequest,
    Slot,
    TimeOff,
    WorkingHours,
    check_series,
    find_series,
    reschedule,
    series_request_from_course,
)

LONDON = ZoneInfo("Europe/London")
P, R, D = ResourceKind.PRACTITIONER, ResourceKind.ROOM, ResourceKind.DEVICE
MON = date(2026, 3, 2)  # a Monday in GMT; the clocks go forward on Sunday 29 March
HOURS = {
    "pat": WorkingHours.every(range(5), time(9), time(17)),
    "oscar": WorkingHours.every((1, 3), time(13), time(18)),
    "night": WorkingHours.every((6,), time(0), time(4)),
}


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=LONDON)


def clinic(*busy: Busy, time_off: tuple[TimeOff, ...] = ()) -> Availability:
    return Availability("Europe/London", HOURS, busy, time_off)


def ask(**overrides) -> SeriesRequest:
    fields = {
        "practitioner": "pat",
        "sessions": 6,
        "duration_minutes": 60,
        "min_interval_days": 28,
        "max_interval_days": 42,
        "earliest_start": MON,
    }
    return SeriesRequest(**(fields | overrides))


def whole_day(kind: ResourceKind, rid: str, day: date) -> Busy:
    return Busy(kind, rid, at(day, 0), at(day + timedelta(days=1), 0))


def local_dates(slots) -> list[date]:
    return [s.start.astimezone(LONDON).date() for s in slots]


def gaps(slots) -> list[int]:
    days = local_dates(slots)
    return [(b - a).days for a, b in pairwise(days)]


# --- series on an empty calendar -------------------------------------------------------------


def test_empty_calendar_gives_the_target_interval_at_the_same_local_time():
    result = find_series(clinic(), ask(target_interval_days=35))
    slots = result.best().slots
    assert len(slots) == 6
    assert gaps(slots) == [35] * 5
    assert slots[0].start == at(MON, 9)
    assert {s.start.astimezone(LONDON).time() for s in slots} == {time(9)}
    assert all(s.end - s.start == timedelta(minutes=60) for s in slots)
    assert (
        "35 days after session 1 (target 35, allowed 28-42)" in result.proposal.sessions[1].reason
    )
    assert check_series(clinic(), ask(), slots) == []


def test_target_defaults_to_the_minimum_interval():
    assert gaps(find_series(clinic(), ask()).best().slots) == [28] * 5


# --- resources -------------------------------------------------------------------------------


def test_a_busy_practitioner_is_never_double_booked():
    busy = Busy(P, "pat", at(MON, 9), at(MON, 12, 10))
    first = find_series(clinic(busy), ask()).best().slots[0]
    assert first.start == at(MON, 12, 15)  # the next quarter-hour after the busy block


def test_any_free_room_is_taken_and_a_busy_one_is_skipped():
    busy = [Busy(R, "r1", at(MON, 9), at(MON, 11)), Busy(R, "r2", at(MON, 9), at(MON, 10))]
    first = find_series(clinic(*busy), ask(rooms=("r1", "r2"))).best().slots[0]
    assert (first.start, first.room) == (at(MON, 10), "r2")


def test_a_device_in_use_by_another_practitioner_is_not_offered():
    busy = [Busy(D, "pen1", at(MON, 9), at(MON, 17)), Busy(D, "pen2", at(MON, 9), at(MON, 9, 30))]
    first = find_series(clinic(*busy), ask(devices=("pen1", "pen2"))).best().slots[0]
    assert (first.start, first.device) == (at(MON, 9, 30), "pen2")


def test_no_room_or_device_is_needed_when_none_is_listed():
    busy = [Busy(R, "r1", at(MON, 0), at(MON, 23))]
    first = find_series(clinic(*busy), ask()).best().slots[0]
    assert (first.start, first.room, first.device) == (at(MON, 9), None, None)


def test_time_off_blocks_the_practitioner():
    off = TimeOff("pat", at(MON, 0), at(MON + timedelta(days=3), 13), "conference")
    first = find_series(clinic(time_off=(off,)), ask()).best().slots[0]
    assert first.start == at(MON + timedelta(days=3), 13)


def test_a_session_never_runs_past_the_end_of_working_hours():
    busy = Busy(P, "pat", at(MON, 9), at(MON, 16, 15))
    first = find_series(clinic(busy), ask()).best().slots[0]
    assert first.start == at(MON + timedelta(days=1), 9)  # 16:15-17:15 would overrun


def test_a_fully_booked_target_day_moves_to_the_nearest_day_in_the_window():
    busy = whole_day(P, "pat", MON + timedelta(days=28))
    slots = find_series(clinic(busy), ask(sessions=2)).best().slots
    assert gaps(slots) == [29]


def test_backtracking_moves_an_earlier_session_when_a_later_one_cannot_fit():
    # weekly sessions (exactly 7 days): Monday works for sessions 1 and 2, but the third Monday is
    # full, so the whole series starts on Tuesday instead
    busy = whole_day(P, "pat", MON + timedelta(days=14))
    result = find_series(clinic(busy), ask(sessions=3, min_interval_days=7, max_interval_days=7))
    assert local_dates(result.best().slots) == [MON + timedelta(days=n) for n in (1, 8, 15)]


# --- preferences -----------------------------------------------------------------------------


def test_preferred_days_and_times_are_honoured_and_explained():
    request = ask(preferred_weekdays={3}, preferred_times=[(time(13), time(15))])
    busy = Busy(P, "pat", at(MON + timedelta(days=3), 13), at(MON + timedelta(days=3), 14))
    proposal = find_series(clinic(busy), request).best()
    assert proposal.honours_preferences
    assert proposal.slots[0].start == at(MON + timedelta(days=3), 14)  # Thursday, 14:00-15:00
    assert all(s.start.astimezone(LONDON).weekday() == 3 for s in proposal.slots)
    assert "Thursday is a preferred day; preferred time" in proposal.sessions[0].reason


def test_impossible_preferences_are_relaxed_and_said_so():
    result = find_series(clinic(), ask(preferred_weekdays={5}))  # pat never works Saturdays
    assert result.ok
    assert not result.proposal.honours_preferences
    assert "no series fits the preferred days and times" in result.reason
    assert "not a preferred day" in result.proposal.sessions[0].reason


def test_required_preferences_that_cannot_be_met_give_no_proposal_and_a_reason():
    result = find_series(clinic(), ask(preferred_weekdays={5, 6}, require_preferences=True))
    assert not result.ok
    assert result.reason == (
        "practitioner pat does not work on the preferred days (Saturday, Sunday)"
    )
    with pytest.raises(InputError) as err:
        result.best()
    assert err.value.field == "series"


def test_a_sooner_series_off_the_preferred_days_is_offered_as_an_alternative():
    # oscar's Tuesdays are all booked for two months: the preferred series starts late
    busy = [whole_day(P, "oscar", MON + timedelta(days=1 + 7 * w)) for w in range(9)]
    result = find_series(clinic(*busy), ask(practitioner="oscar", preferred_weekdays={1}))
    assert result.proposal.honours_preferences
    assert result.proposal.slots[0].start.date() == MON + timedelta(days=64)
    sooner = result.alternatives[-1]
    assert not sooner.honours_preferences
    assert sooner.slots[0].start.date() == MON + timedelta(days=3)  # the first Thursday


# --- alternatives ----------------------------------------------------------------------------


def test_alternatives_start_on_other_weekdays_first_and_are_all_valid():
    result = find_series(clinic(), ask(), alternatives=4)
    firsts = [p.slots[0].start.date() for p in (result.proposal, *result.alternatives)]
    assert len(result.alternatives) == 4
    assert len({d.weekday() for d in firsts}) == 5
    for proposal in (result.proposal, *result.alternatives):
        assert check_series(clinic(), ask(), proposal.slots) == []


def test_no_alternatives_when_none_are_asked_for():
    assert find_series(clinic(), ask(), alternatives=0).alternatives == ()


# --- when nothing fits -----------------------------------------------------------------------


def test_a_full_calendar_gives_a_reason_not_a_proposal():
    busy = Busy(P, "pat", at(MON, 0), at(MON + timedelta(days=800), 0))
    result = find_series(clinic(busy), ask())
    assert not result.ok
    assert result.reason.startswith("no free 60-minute slot for practitioner pat")


def test_a_series_cut_short_by_the_latest_date_says_how_far_it_got():
    result = find_series(clinic(), ask(latest_date=MON + timedelta(days=150), sessions=6))
    assert result.ok  # 5 x 28 = 140 days fits
    busy = Busy(P, "pat", at(MON + timedelta(days=60), 0), at(MON + timedelta(days=400), 0))
    result = find_series(clinic(busy), ask(latest_date=MON + timedelta(days=150)))
    assert not result.ok
    assert result.reason.startswith("at most 3 of 6 sessions fit: no free slot for session 4")


# --- Europe/London clock changes -------------------------------------------------------------


def test_intervals_are_calendar_days_and_times_local_across_the_spring_change():
    start = date(2026, 3, 23)
    slots = find_series(clinic(), ask(earliest_start=start, sessions=2)).best().slots
    assert [s.start.isoformat() for s in slots] == [
        "2026-03-23T09:00:00+00:00",
        "2026-04-20T09:00:00+01:00",
    ]
    assert gaps(slots) == [28]  # 27 days and 23 hours of real time


def test_the_spring_forward_night_has_three_real_hours():
    av = clinic()
    windows = av.windows("night", date(2026, 3, 29))
    assert sum(e - s for s, e in windows) == 3 * 3600
    busy = [Busy(P, "night", at(date(2026, 3, 29), 0), at(date(2026, 3, 29), 3))]  # 00:00-03:00 BST
    request = ask(
        practitioner="night", sessions=1, earliest_start=date(2026, 3, 29), granularity_minutes=60
    )
    slot = find_series(clinic(*busy), request).best().slots[0]
    assert slot.start.isoformat() == "2026-03-29T03:00:00+01:00"  # the only free hour
    assert slot.end.isoformat() == "2026-03-29T04:00:00+01:00"


def test_the_fall_back_night_has_five_real_hours_and_sessions_keep_their_real_length():
    windows = clinic().windows("night", date(2026, 10, 25))
    assert sum(e - s for s, e in windows) == 5 * 3600
    request = ask(
        practitioner="night", sessions=1, duration_minutes=90, earliest_start=date(2026, 10, 25)
    )
    busy = Busy(P, "night", at(date(2026, 10, 25), 0), at(date(2026, 10, 25), 0, 30))
    slot = find_series(clinic(busy), request).best().slots[0]
    assert slot.start.isoformat() == "2026-10-25T00:30:00+01:00"
    assert slot.end.isoformat() == "2026-10-25T01:00:00+00:00"  # 01:00 on the wall, 90 minutes
    assert slot.minutes == 90


def test_working_hours_follow_the_wall_clock_on_the_monday_after_the_change():
    av = clinic()
    before = Slot(at(date(2026, 3, 27), 8, 30), at(date(2026, 3, 27), 9, 30), "pat")
    after = Slot(at(date(2026, 3, 30), 9), at(date(2026, 3, 30), 10), "pat")
    assert av.problems(before) == ["outside practitioner pat's working hours"]
    assert av.is_free(after)
    utc_nine = Slot(
        datetime(2026, 3, 30, 7, 30, tzinfo=ZoneInfo("UTC")),  # 08:30 BST
        datetime(2026, 3, 30, 8, 30, tzinfo=ZoneInfo("UTC")),
        "pat",
    )
    assert not av.is_free(utc_nine)


# --- the check at booking time ---------------------------------------------------------------


def test_problems_name_what_blocks_a_slot():
    off = TimeOff("pat", at(MON, 12), at(MON, 13))
    busy = [Busy(R, "r1", at(MON, 12), at(MON, 14)), Busy(D, "pen1", at(MON, 11), at(MON, 12, 30))]
    av = clinic(*busy, time_off=(off,))
    slot = Slot(at(MON, 12), at(MON, 13), "pat", "r1", "pen1")
    assert av.problems(slot) == [
        "practitioner pat is on time off until Mon 02 Mar 2026 13:00",
        "room r1 is busy until Mon 02 Mar 2026 14:00",
        "device pen1 is busy until Mon 02 Mar 2026 12:30",
    ]
    assert av.is_free(Slot(at(MON, 14), at(MON, 15), "pat", "r1", "pen1"))
    assert av.problems(Slot(at(MON, 9), at(MON, 10), "nobody")) == [
        "practitioner nobody has no working hours"
    ]


def test_touching_bookings_do_not_overlap():
    av = clinic(Busy(P, "pat", at(MON, 9), at(MON, 10)), Busy(P, "pat", at(MON, 11), at(MON, 12)))
    assert av.is_free(Slot(at(MON, 10), at(MON, 11), "pat"))
    assert not av.is_free(Slot(at(MON, 10), at(MON, 11, 1), "pat"))


def test_check_series_catches_what_changed_since_the_proposal():
    request = ask(sessions=3, rooms=("r1",))
    slots = find_series(clinic(), request).best().slots
    taken = Busy(R, "r1", slots[1].start, slots[1].end)
    assert check_series(clinic(taken), request, slots) == [
        "session 2: room r1 is busy until Mon 30 Mar 2026 10:00"
    ]
    short = [slots[0], Slot(slots[0].start, slots[0].end, "pat")]  # two, the same hour
    problems = check_series(clinic(), request, short)
    assert "the series has 2 sessions; the plan asks for 3" in problems
    assert "session 2 starts before session 1 ends" in problems
    assert "session 2 is 0 days after session 1; allowed 28-42" in problems


# --- rescheduling ----------------------------------------------------------------------------


WED = MON + timedelta(days=2)


def booked(every: int = 28, n: int = 6) -> list[Slot]:
    """A series on Wednesdays (every multiple of 7) at 10:00, booked earlier."""
    days = [WED + timedelta(days=every * k) for k in range(n)]
    return [Slot(at(d, 10), at(d, 11), "pat") for d in days]


def day(n: int) -> date:
    return MON + timedelta(days=n)


def test_a_move_that_keeps_every_interval_moves_nothing_else():
    series = booked(every=35)  # days 2, 37, 72, 107, ...
    new = at(day(74), 14)  # session 3: 2 days later, 37 days after session 2, 33 before session 4
    result = reschedule(clinic(), ask(), series, 2, new)
    assert result.ok and result.moved == ()
    assert result.slots[2].start == new
    assert result.slots[:2] == tuple(series[:2]) and result.slots[3:] == tuple(series[3:])


def test_a_later_move_pushes_the_following_sessions_by_the_minimum():
    series = booked(every=28)
    result = reschedule(clinic(), ask(), series, 2, at(day(60), 10))  # 2 days later
    assert result.ok
    assert result.moved == (3, 4, 5)
    assert gaps(result.slots) == [28, 30, 28, 28, 28]
    assert all(s.start.astimezone(LONDON).time() == time(10) for s in result.slots)
    assert result.changes[0].startswith(
        "session 4: Wed 27 May 2026 10:00 -> Fri 29 May 2026 10:00 (2 days later), to stay 28-42"
    )


def test_a_later_session_whose_day_is_taken_moves_to_the_nearest_day():
    series = booked(every=35)
    av = clinic(whole_day(P, "pat", day(107)))  # session 4's day is now full
    result = reschedule(av, ask(), series, 2, at(day(73), 10))
    assert result.ok and result.moved == (3,)
    # 34 days after session 3 is taken; 33 and 35 are as near, and the earlier one wins
    assert local_dates(result.slots)[3] == day(106)
    assert result.slots[4:] == tuple(series[4:])


def test_an_earlier_move_that_breaks_the_previous_interval_is_refused():
    result = reschedule(clinic(), ask(), booked(every=28), 1, at(day(29), 10))
    assert not result.ok and result.slots == ()
    assert result.problems == ("session 2 would be 27 days after session 1; allowed 28-42",)


def test_a_move_into_a_busy_or_closed_time_is_refused_with_the_reason():
    series = booked()
    busy = Busy(P, "pat", at(day(31), 9), at(day(31), 12))
    result = reschedule(clinic(busy), ask(), series, 1, at(day(31), 10))
    assert result.problems == ("practitioner pat is busy until Thu 02 Apr 2026 12:00",)
    result = reschedule(clinic(), ask(), series, 1, at(day(31), 18))
    assert result.problems == ("outside practitioner pat's working hours",)


def test_a_move_whose_knock_on_cannot_fit_is_refused():
    series = booked(every=28)  # the last on day 142
    request = ask(latest_date=day(143))
    result = reschedule(clinic(), request, series, 1, at(day(32), 10))  # 2 days later
    assert not result.ok
    assert result.problems[0].startswith("no free slot for session 6 28-42 days after session 5")


def test_reschedule_keeps_the_room_and_device_when_they_are_free():
    series = [Slot(s.start, s.end, "pat", "r2", "pen2") for s in booked(every=35)]
    request = ask(rooms=("r1", "r2"), devices=("pen1", "pen2"))
    result = reschedule(clinic(), request, series, 5, at(day(178), 11))
    assert (result.slots[5].room, result.slots[5].device) == ("r2", "pen2")
    assert json.loads(json.dumps(result.to_dict()))["moved_sessions"] == []


# --- from a plan, and output -----------------------------------------------------------------


def test_a_request_from_a_planned_course_uses_the_protocol_range_and_longest_session(kb):
    from dermis.core.planning import plan
    from dermis.core.screening import screen
    from tests.core.clinical_factories import assessment, intake, patient

    who, needs = patient("V"), assessment(("cheeks", "acne_scars_rolling", 3))
    course = plan(who, needs, screen(who, intake(), kb, MON), kb).courses[0]
    request = series_request_from_course(course, kb, "pat", rooms=["r1"], preferred_weekdays={2})
    assert (request.min_interval_days, request.max_interval_days) == (28, 42)
    assert request.target_interval_days == course.interval_days == 42  # Fitzpatrick V: longest
    assert request.sessions == course.sessions
    assert request.duration_minutes == 60
    assert request.earliest_start == course.earliest_start
    assert request.rooms == ("r1",) and request.preferred_weekdays == {2}
    assert gaps(find_series(clinic(), request).best().slots) == [42] * (course.sessions - 1)


def test_results_are_json_ready():
    result = find_series(clinic(), ask(rooms=("r1",), preferred_weekdays={1}))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["ok"] and data["proposal"]["sessions"][0]["session"] == 1
    assert data["proposal"]["sessions"][0]["room"] == "r1"
    assert data["proposal"]["sessions"][1]["interval_days"] == 28


# --- errors a user can cause name the field --------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sessions": 0}, "sessions"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 2000}, "duration_minutes"),
        ({"min_interval_days": 0}, "min_interval_days"),
        ({"max_interval_days": 20}, "max_interval_days"),
        ({"target_interval_days": 50}, "target_interval_days"),
        ({"earliest_start": datetime(2026, 3, 2, 9)}, "earliest_start"),
        ({"latest_date": MON + timedelta(days=100)}, "latest_date"),
        ({"preferred_weekdays": {7}}, "preferred_weekdays"),
        ({"preferred_times": [(time(12), time(9))]}, "preferred_times[0]"),
        ({"preferred_times": [(time(9), time(12)), ("9", "12")]}, "preferred_times[1]"),
        ({"granularity_minutes": 0}, "granularity_minutes"),
        ({"horizon_days": 30}, "horizon_days"),
        ({"not_before": datetime(2026, 3, 2, 9)}, "not_before"),
        ({"sessions": "6"}, "sessions"),
    ],
)
def test_a_bad_request_names_the_field(overrides, field):
    with pytest.raises(InputError) as err:
        ask(**overrides)
    assert err.value.field == field


def test_bad_calendar_inputs_name_the_field():
    naive = datetime(2026, 3, 2, 9)
    cases = [
        (lambda: Busy(P, "pat", naive, at(MON, 10)), "busy.start"),
        (lambda: Busy(P, "pat", at(MON, 10), at(MON, 10)), "busy.end"),
        (lambda: TimeOff("pat", at(MON, 10), at(MON, 9)), "time_off.end"),
        (lambda: WorkingHours({7: [(time(9), time(17))]}), "working_hours[7]"),
        (lambda: WorkingHours({2: [(time(17), time(9))]}), "working_hours[2]"),
        (
            lambda: WorkingHours({2: [(time(9), time(13)), (time(12), time(17))]}),
            "working_hours[2]",
        ),
        (lambda: Availability("Mars/Olympus", HOURS), "zone"),
        (lambda: find_series(clinic(), ask(practitioner="nobody")), "practitioner"),
        (lambda: reschedule(clinic(), ask(), booked(), 6, at(MON, 10)), "index"),
        (lambda: reschedule(clinic(), ask(), booked(), 1, naive), "new_start"),
        (
            lambda: reschedule(clinic(), ask(practitioner="oscar"), booked(), 1, at(MON, 9)),
            "booked",
        ),
        (lambda: clinic().problems(Slot(naive, at(MON, 10), "pat")), "slot.start"),
    ]
    for build, field in cases:
        with pytest.raises(InputError) as err:
            build()
        assert err.value.field == field, field


def test_busy_times_in_epoch_seconds_block_the_practitioner_and_bad_ones_name_the_field():
    start, end = at(MON, 10), at(MON, 11)
    ready = Availability(
        "Europe/London",
        HOURS,
        busy_epochs=[("practitioner", "pat", int(start.timestamp()), int(end.timestamp()))],
    )
    assert ready.problems(Slot(at(MON, 10, 30), at(MON, 11, 30), "pat")) == [
        "practitioner pat is busy until Mon 02 Mar 2026 11:00"
    ]
    assert ready.is_free(Slot(at(MON, 11), at(MON, 12), "pat"))
    s, e = int(start.timestamp()), int(end.timestamp())
    for bad, field in (
        (("practitioner", "pat", e, s), "busy.end"),
        (("practitioner", "pat", s, s), "busy.end"),
        (("practitioner", "pat", start, end), "busy.start"),
        (("chair", "pat", s, e), "busy.kind"),
    ):
        with pytest.raises(InputError) as err:
            Availability("Europe/London", HOURS, busy_epochs=[bad])
        assert err.value.field == field
