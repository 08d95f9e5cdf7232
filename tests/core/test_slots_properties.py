"""Invariants of the slot finder on random calendars in Europe/London, clock changes included.

Every proposed slot is inside working hours, overlaps nothing busy and no time off, uses one of
the allowed rooms and devices, starts on the grid; a series is strictly increasing with every
interval within [min, max]. A brute-force search that shares no code with the finder agrees on
whether any series exists. Rescheduling keeps those invariants and moves only what it says.
"""

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

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
    same_search_until,
)

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
P, R, D = ResourceKind.PRACTITIONER, ResourceKind.ROOM, ResourceKind.DEVICE
ROOMS, DEVICES = ("r1", "r2"), ("d1", "d2")
# the Mondays before the spring and autumn clock changes of 2026, and two ordinary weeks
BASES = (date(2026, 3, 23), date(2026, 10, 19), date(2026, 1, 5), date(2026, 6, 29))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ts(value: datetime) -> float:
    return value.timestamp()


@st.composite
def weekly_hours(draw):
    days = {}
    for weekday in draw(st.sets(st.integers(0, 6), min_size=1)):
        start = draw(st.integers(0, 14))
        end = draw(st.integers(start + 1, min(start + 9, 20)))
        spans = [(time(start), time(end))]
        if draw(st.booleans()):
            later = draw(st.integers(end, 21))
            spans.append((time(later), time(draw(st.integers(later + 1, 23)))))
        days[weekday] = spans
    return WorkingHours(days)


@st.composite
def calendars(draw, span_days=60):
    base = draw(st.sampled_from(BASES))
    # real-time arithmetic (in UTC): adding minutes to a London datetime adds wall-clock time
    start = datetime.combine(base, time(0), tzinfo=LONDON).astimezone(UTC)

    def interval(max_minutes):
        offset = draw(st.integers(0, span_days * 24 * 4)) * 15
        length = draw(st.integers(1, max_minutes // 15)) * 15
        begin = start + timedelta(minutes=offset)
        return begin.astimezone(LONDON), (begin + timedelta(minutes=length)).astimezone(LONDON)

    resources = [(P, "pat"), *((R, r) for r in ROOMS), *((D, d) for d in DEVICES)]
    busy = [
        Busy(*draw(st.sampled_from(resources)), *interval(600))
        for _ in range(draw(st.integers(0, 60)))
    ]
    off = [TimeOff("pat", *interval(72 * 60)) for _ in range(draw(st.integers(0, 3)))]
    return base, draw(weekly_hours()), busy, off


@st.composite
def requests(draw, base, span_days=60, min_sessions=1, max_sessions=5):
    sessions = draw(st.integers(min_sessions, max_sessions))
    low = draw(st.integers(1, min(10, span_days // max(sessions - 1, 1))))
    high = draw(st.integers(low, low + 10))
    earliest = base + timedelta(days=draw(st.integers(0, 7)))
    horizon = draw(st.integers(max((sessions - 1) * low, 1), span_days))
    times = draw(st.sampled_from(((), ((time(9), time(13)),), ((time(12), time(19)),))))
    return SeriesRequest(
        practitioner="pat",
        sessions=sessions,
        duration_minutes=draw(st.integers(1, 36)) * 5,
        min_interval_days=low,
        max_interval_days=high,
        target_interval_days=draw(st.integers(low, high)),
        earliest_start=earliest,
        horizon_days=horizon,
        rooms=tuple(draw(st.lists(st.sampled_from(ROOMS), unique=True))),
        devices=tuple(draw(st.lists(st.sampled_from(DEVICES), unique=True))),
        preferred_weekdays=draw(st.sets(st.integers(0, 6), max_size=3)),
        preferred_times=times,
        require_preferences=draw(st.booleans()),
        granularity_minutes=draw(st.sampled_from((5, 15, 20, 30, 60))),
    )


def windows(hours: WorkingHours, day: date) -> list[tuple[float, float]]:
    return [
        (ts(datetime.combine(day, s, tzinfo=LONDON)), ts(datetime.combine(day, e, tzinfo=LONDON)))
        for s, e in hours.by_weekday.get(day.weekday(), ())
    ]


def overlaps(items, s: float, e: float) -> bool:
    return any(ts(b.start) < e and s < ts(b.end) for b in items)


def slot_problems(slot, hours, busy, off, request) -> list[str]:
    s, e = ts(slot.start), ts(slot.end)
    day = slot.start.astimezone(LONDON).date()
    out = []
    if not any(ws <= s and e <= we for ws, we in windows(hours, day)):
        out.append("outside hours")
    if overlaps(off, s, e):
        out.append("time off")
    for kind, rid, allowed in (
        (P, "pat", None),
        (R, slot.room, request.rooms),
        (D, slot.device, request.devices),
    ):
        if allowed is not None and (rid is None) != (not allowed):
            out.append(f"{kind} {rid} not one of {allowed}")
        if allowed and rid not in allowed:
            out.append(f"{kind} {rid} not allowed")
        if rid is not None and overlaps(
            [b for b in busy if (b.kind, b.resource) == (kind, rid)], s, e
        ):
            out.append(f"{kind} {rid} busy")
    if round((e - s) / 60) != request.duration_minutes:
        out.append("wrong length")
    midnight = ts(datetime.combine(day, time(0), tzinfo=LONDON))
    if (s - midnight) % (request.granularity_minutes * 60):
        out.append("off the grid")
    return out


def series_problems(slots, hours, busy, off, request) -> list[str]:
    out = [p for slot in slots for p in slot_problems(slot, hours, busy, off, request)]
    days = [s.start.astimezone(LONDON).date() for s in slots]
    out += ["not increasing" for a, b in pairwise(slots) if ts(b.start) <= ts(a.end)]
    for a, b in pairwise(days):
        if not request.min_interval_days <= (b - a).days <= request.max_interval_days:
            out.append(f"interval {(b - a).days}")
    if len(slots) != request.sessions or days[0] < request.earliest_start:
        out.append("count or start")
    if days[-1] > request.last_date:
        out.append("past the last date")
    return out


def honours(slot, request) -> bool:
    local_s, local_e = slot.start.astimezone(LONDON), slot.end.astimezone(LONDON)
    day_ok = not request.preferred_weekdays or local_s.weekday() in request.preferred_weekdays
    time_ok = not request.preferred_times or any(
        ts(datetime.combine(local_s.date(), ps, tzinfo=LONDON)) <= ts(local_s)
        and ts(local_e) <= ts(datetime.combine(local_s.date(), pe, tzinfo=LONDON))
        for ps, pe in request.preferred_times
    )
    return day_ok and time_ok


@SETTINGS
@given(st.data())
def test_every_proposal_is_free_inside_hours_and_within_the_intervals(data):
    base, hours, busy, off = data.draw(calendars())
    request = data.draw(requests(base))
    av = Availability(LONDON, {"pat": hours}, busy, off)
    result = find_series(av, request)
    event(f"series found: {result.ok}")
    if not result.ok:
        assert result.reason
        return
    proposals = (result.proposal, *result.alternatives)
    assert len({p.slots[0].start for p in proposals}) == len(proposals)
    for proposal in proposals:
        assert series_problems(proposal.slots, hours, busy, off, request) == []
        assert check_series(av, request, proposal.slots) == []
        assert proposal.honours_preferences == all(honours(s, request) for s in proposal.slots)
        if request.require_preferences:
            assert proposal.honours_preferences


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_search_from_any_moment_up_to_the_one_it_stays_the_same_until_proposes_the_same(data):
    """What a proposal is kept by (`same_search_until`): from `not_before` up to the moment it
    gives, every `not_before` finds the same series, and each gives that same moment."""
    base, hours, busy, off = data.draw(calendars())
    request = data.draw(requests(base))
    # A grid that does not divide the day as well: its last point before midnight is not a day's.
    every = data.draw(st.sampled_from((request.granularity_minutes, 7, 25)))
    request = replace(request, granularity_minutes=every)
    av = Availability(LONDON, {"pat": hours}, busy, off)
    # Mostly on the first day the search may use, where `not_before` cuts its windows.
    first = request.earliest_start - timedelta(days=data.draw(st.sampled_from((0, 0, 0, 1))))
    midnight = datetime.combine(first, time(0), tzinfo=LONDON).astimezone(UTC)
    seconds = data.draw(st.integers(0, 2 * 24 * 3600))
    if data.draw(st.integers(0, 4)) == 0:  # in the day's last half hour, past its last grid point
        end = datetime.combine(first + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)
        seconds = int((end - midnight).total_seconds()) - data.draw(st.integers(1, 1800))
    now = midnight + timedelta(seconds=seconds, microseconds=data.draw(st.integers(0, 999_999)))
    step = timedelta(minutes=request.granularity_minutes)
    until = same_search_until(LONDON, now, request.granularity_minutes)
    # The first grid point at or after the whole second, or the local day's end if sooner.
    assert now - timedelta(seconds=1) < until < now + step
    local = until.astimezone(LONDON)
    day_start = datetime.combine(local.date(), time(0), tzinfo=LONDON).astimezone(UTC)
    on_grid = (until.astimezone(UTC) - day_start) % step == timedelta(0)  # real time, not wall
    assert on_grid or local.time() == time(0)
    later = now + (until - now) * data.draw(st.floats(0, 1)) if until > now else now
    found = find_series(av, replace(request, not_before=now))
    for moment in (later, until):
        if moment < now.replace(microsecond=0):
            continue
        assert same_search_until(LONDON, moment, request.granularity_minutes) == until
        assert find_series(av, replace(request, not_before=moment)) == found
    event(f"not_before changes the search: {found != find_series(av, request)}")


def exists_series(hours, busy, off, request) -> bool:
    """Brute force: every grid start of every day, naive overlap scans, then chains of days."""
    step = request.granularity_minutes * 60
    length = request.duration_minutes * 60
    strict = request.require_preferences
    last = request.last_date

    def free(kind, ids, s, e):
        if not ids:
            return True
        return any(
            not overlaps([b for b in busy if (b.kind, b.resource) == (kind, i)], s, e) for i in ids
        )

    def day_ok(day):
        if (
            strict
            and request.preferred_weekdays
            and day.weekday() not in request.preferred_weekdays
        ):
            return False
        midnight = ts(datetime.combine(day, time(0), tzinfo=LONDON))
        for k in range(26 * 3600 // step):
            s = midnight + k * step
            e = s + length
            if not any(ws <= s and e <= we for ws, we in windows(hours, day)):
                continue
            if (
                strict
                and request.preferred_times
                and not any(
                    ts(datetime.combine(day, ps, tzinfo=LONDON)) <= s
                    and e <= ts(datetime.combine(day, pe, tzinfo=LONDON))
                    for ps, pe in request.preferred_times
                )
            ):
                continue
            if overlaps([b for b in busy if b.kind == P], s, e) or overlaps(off, s, e):
                continue
            if free(R, request.rooms, s, e) and free(D, request.devices, s, e):
                return True
        return False

    days = [
        request.earliest_start + timedelta(n)
        for n in range((last - request.earliest_start).days + 1)
    ]
    ok = {d: day_ok(d) for d in days}
    reach = {d for d in days if ok[d]}  # days that can hold session 1
    for _ in range(request.sessions - 1):
        reach = {
            d
            for d in days
            if ok[d]
            and any(
                d - timedelta(gap) in reach
                for gap in range(request.min_interval_days, request.max_interval_days + 1)
            )
        }
    return bool(reach)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_finder_finds_a_series_exactly_when_one_exists(data):
    base, hours, busy, off = data.draw(calendars(span_days=25))
    request = data.draw(requests(base, span_days=25, max_sessions=4))
    av = Availability(LONDON, {"pat": hours}, busy, off)
    found = find_series(av, request, alternatives=0).ok
    event(f"series found: {found}")
    assert found == exists_series(hours, busy, off, request)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_reschedule_keeps_the_series_valid_and_moves_only_what_it_reports(data):
    base, hours, busy, off = data.draw(calendars())
    request = data.draw(requests(base, min_sessions=2))
    av = Availability(LONDON, {"pat": hours}, busy, off)
    result = find_series(av, request, alternatives=0)
    if not result.ok:
        return
    series = result.proposal.slots
    index = data.draw(st.integers(0, len(series) - 2))  # one with later sessions
    old = series[index].start.astimezone(LONDON)
    next_day = series[index + 1].start.astimezone(LONDON).date()
    length = ts(series[index].end) - ts(series[index].start)

    def works(shift: int) -> bool:  # the practitioner works at this time of day then
        start = ts(datetime.combine(old.date() + timedelta(days=shift), old.time(), tzinfo=LONDON))
        day = old.date() + timedelta(days=shift)
        return any(ws <= start and start + length <= we for ws, we in windows(hours, day))

    # a nearby working day, often one that pushes the next session below the minimum interval
    push = (next_day - old.date()).days - request.min_interval_days + 1
    pushing = [n for n in range(push, push + 7) if works(n)]
    nearby = [n for n in range(-4, 9) if works(n)] or [1]
    shift = data.draw(st.sampled_from(pushing or nearby) | st.sampled_from(nearby))
    new_day = old.date() + timedelta(days=shift)
    new_time = data.draw(
        st.just(old.time()) | st.builds(time, st.integers(0, 22), st.sampled_from((0, 15, 30, 45)))
    )
    new_start = datetime.combine(new_day, new_time, tzinfo=LONDON)
    moved = reschedule(av, request, series, index, new_start)
    event(f"reschedule ok: {moved.ok}, moved others: {bool(moved.moved)}")
    if not moved.ok:
        assert moved.problems and moved.slots == ()
        return
    slots = moved.slots
    assert slots[:index] == series[:index]
    assert ts(slots[index].start) == ts(new_start)
    assert series_problems(slots, hours, busy, off, _anywhere(request)) == []
    changed = tuple(k for k in range(index + 1, len(series)) if slots[k] != series[k])
    assert moved.moved == changed
    assert len(moved.changes) == len(changed)


def _anywhere(request: SeriesRequest) -> SeriesRequest:
    """The request as a reschedule reads it: a moved session may start at any minute (the new
    time is the user's), earlier than the first proposal, and later than the search horizon."""
    return replace(
        request,
        earliest_start=request.earliest_start - timedelta(days=10),
        granularity_minutes=1,
        horizon_days=10_000,
    )


@SETTINGS
@given(data=st.data())
def test_busy_times_given_as_epoch_seconds_block_what_busy_records_block(data):
    """`busy_epochs` (how the web reads hundreds of bookings) is the same calendar as `Busy`."""
    base, hours, busy, off = data.draw(calendars())
    as_records = Availability(LONDON, {"pat": hours}, busy, off)
    split = data.draw(st.integers(0, len(busy)))
    as_epochs = Availability(
        LONDON,
        {"pat": hours},
        busy[:split],
        off,
        busy_epochs=[
            (b.kind.value, b.resource, int(b.start.timestamp()), int(b.end.timestamp()))
            for b in busy[split:]
        ],
    )
    midnight = datetime.combine(base, time(0), tzinfo=LONDON).astimezone(UTC)
    for _ in range(20):
        # In real time (UTC), as `calendars` builds its times: wall-clock arithmetic across the
        # spring change made a slot start at a time that does not exist and end before it.
        begin = midnight + timedelta(minutes=15 * data.draw(st.integers(0, 60 * 24 * 4)))
        length = timedelta(minutes=15 * data.draw(st.integers(1, 12)))
        slot = Slot(
            begin.astimezone(LONDON),
            (begin + length).astimezone(LONDON),
            "pat",
            data.draw(st.sampled_from((None, *ROOMS))),
            data.draw(st.sampled_from((None, *DEVICES))),
        )
        assert as_epochs.problems(slot) == as_records.problems(slot)
    assert as_epochs.busy.size == as_records.busy.size
