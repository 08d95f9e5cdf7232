"""The slot finder: propose a whole treatment series, check a booking, reschedule one session.

Core code, no Django: the web app turns its rows into an `Availability` (working hours, time off,
busy practitioners, rooms and devices) and a `SeriesRequest`, and books what comes back inside one
transaction after `check_series` (the calendar may have changed since the proposal).

    availability = Availability("Europe/London", {"pat": WorkingHours.every(range(5), ...)}, busy)
    result = find_series(availability, request)   # .proposal, .alternatives, .reason
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from dermis.core.errors import InputError
from dermis.core.knowledge.schema import KnowledgeBase
from dermis.core.planning import Course, course_interval_range
from dermis.core.slots_calendar import (
    WEEKDAYS,
    Availability,
    Busy,
    ResourceId,
    ResourceKind,
    Slot,
    TimeOff,
    WorkingHours,
)
from dermis.core.slots_request import (
    Rescheduled,
    SeriesProposal,
    SeriesRequest,
    SeriesResult,
    SessionChoice,
)
from dermis.core.slots_reschedule import reschedule
from dermis.core.slots_search import DateSearch, DayFinder, same_search_until, window

__all__ = [
    "Availability",
    "Busy",
    "Rescheduled",
    "ResourceId",
    "ResourceKind",
    "SeriesProposal",
    "SeriesRequest",
    "SeriesResult",
    "SessionChoice",
    "Slot",
    "TimeOff",
    "WorkingHours",
    "check_series",
    "find_series",
    "reschedule",
    "same_search_until",
    "series_request_from_course",
]


def find_series(
    availability: Availability, request: SeriesRequest, alternatives: int = 3
) -> SeriesResult:
    """The best series for `request` and up to `alternatives` others starting on other days
    (other weekdays first). Preferred days and times are honoured when some series allows it;
    otherwise (unless `require_preferences`) the series closest to them is proposed."""
    check_practitioner(availability, request)
    finder = DayFinder(availability, request)
    has_prefs = bool(request.preferred_weekdays or request.preferred_times)
    strict = _Series(finder, strict=True)
    dates = strict.run()
    relaxed = (
        _Series(finder, strict=False) if has_prefs and not request.require_preferences else None
    )
    used = strict
    if dates is None and relaxed is not None:
        used, dates = relaxed, relaxed.run()
    if dates is None:
        return SeriesResult(None, (), (relaxed if relaxed is not None else strict).why_not())
    found = [dates]
    possible = set(availability.working_hours[request.practitioner].by_weekday)
    if used.strict and request.preferred_weekdays:
        possible &= request.preferred_weekdays
    for other_weekday in (True, False):  # other weekdays first, then any other first day
        while len(found) <= alternatives:
            firsts = {d[0] for d in found}
            weekdays = {d.weekday() for d in firsts} if other_weekday else set()
            if weekdays >= possible:
                break
            more = used.run(lambda d, f=firsts, w=weekdays: d in f or d.weekday() in w)
            if more is None:
                break
            found.append(more)
    proposals = [used.proposal(d) for d in found]
    if alternatives and used is strict and relaxed is not None:
        sooner = relaxed.run()
        if sooner is not None and sooner[0] < dates[0]:  # worth showing, even at the last place
            proposals = [*proposals[:alternatives], relaxed.proposal(sooner)]
    summary = "" if used is strict else "no series fits the preferred days and times throughout; "
    return SeriesResult(proposals[0], tuple(proposals[1:]), summary + proposals[0].summary)


def check_practitioner(availability: Availability, request: SeriesRequest) -> None:
    hours = availability.working_hours.get(request.practitioner)
    if hours is None or not hours.by_weekday:
        raise InputError("practitioner", f"{request.practitioner} has no working hours")


class _Series:
    """One search mode: strict (only preferred days and times) or relaxed (preferred first)."""

    def __init__(self, finder: DayFinder, strict: bool) -> None:
        self.finder = finder
        self.req = finder.req
        self.strict = strict or not (self.req.preferred_weekdays or self.req.preferred_times)
        self.search = DateSearch(self.req.sessions, self._candidates, self._usable)

    @functools.cached_property
    def first_days(self) -> list[date]:
        req = self.req
        last = req.last_date - timedelta(days=(req.sessions - 1) * req.min_interval_days)
        days = [
            req.earliest_start + timedelta(n) for n in range((last - req.earliest_start).days + 1)
        ]
        if not self.strict:  # within each week, preferred weekdays first
            days.sort(
                key=lambda d: (
                    (d - req.earliest_start).days // 7,
                    not self.finder.preferred_day(d),
                    d,
                )
            )
        return days

    def _candidates(self, k: int, prev: date) -> list[date]:
        req = self.req
        days = window(prev, req.min_interval_days, req.max_interval_days, req.last_date)
        target = req.target_interval_days
        pref = self.finder.preferred_day
        return sorted(days, key=lambda d: (not pref(d), abs((d - prev).days - target), d))

    def _usable(self, k: int, day: date) -> bool:
        return self.finder.has(day, self.strict)

    def run(self, skip: Callable[[date], bool] | None = None) -> list[date] | None:
        days = self.first_days
        return self.search.first(d for d in days if skip is None or not skip(d))

    def why_not(self) -> str:
        req, placed = self.req, self.search.placed
        prefs = req.preferred_weekdays or req.preferred_times
        where = " on the preferred days and times" if self.strict and prefs else ""
        works = set(self.finder.av.working_hours[req.practitioner].by_weekday)
        if self.strict and req.preferred_weekdays and not works & req.preferred_weekdays:
            days = ", ".join(WEEKDAYS[d] for d in sorted(req.preferred_weekdays))
            return f"practitioner {req.practitioner} does not work on the preferred days ({days})"
        if placed == 0:
            last = req.last_date - timedelta(days=(req.sessions - 1) * req.min_interval_days)
            return (
                f"no free {req.duration_minutes}-minute slot{where} for practitioner "
                f"{req.practitioner} (with a room and a device where needed) between "
                f"{req.earliest_start:%d %b %Y} and {last:%d %b %Y}"
            )
        return (
            f"at most {placed} of {req.sessions} sessions fit{where}: no free slot for session "
            f"{placed + 1} {req.min_interval_days}-{req.max_interval_days} days after session "
            f"{placed}, for any choice of the earlier sessions, by {req.last_date:%d %b %Y}"
        )

    def proposal(self, dates: list[date]) -> SeriesProposal:
        req, finder = self.req, self.finder
        sessions: list[SessionChoice] = []
        anchor = None
        for i, day in enumerate(dates):
            (start, room, device), good_time = finder.choose(day, self.strict, anchor)
            slot = Slot(
                finder.av.local(start),
                finder.av.local(start + finder.duration),
                req.practitioner,
                room,
                device,
            )
            good_day = finder.preferred_day(day)
            interval = (day - dates[i - 1]).days if i else None
            minute = finder.minute(start)
            if i == 0:
                why = f"first date from {req.earliest_start:%d %b %Y} that starts a whole series"
            else:
                why = (
                    f"{interval} days after session {i} (target {req.target_interval_days}, "
                    f"allowed {req.min_interval_days}-{req.max_interval_days})"
                )
            if req.preferred_weekdays:
                why += (
                    f"; {WEEKDAYS[day.weekday()]} is a preferred day"
                    if good_day
                    else "; not a preferred day: no preferred day here leads to a whole series"
                )
            if req.preferred_times:
                why += "; preferred time" if good_time else "; no preferred time free that day"
            if anchor is not None and minute == anchor:
                why += "; same time as the previous session"
            sessions.append(SessionChoice(i, slot, interval, good_day, good_time, why))
            anchor = minute
        honours = all(s.preferred_day and s.preferred_time for s in sessions)
        first, last = sessions[0].slot.start, sessions[-1].slot.start
        summary = (
            f"{req.sessions} sessions from {first:%a %d %b %Y} to {last:%a %d %b %Y}, "
            f"{req.min_interval_days}-{req.max_interval_days} days apart"
        )
        if req.preferred_weekdays or req.preferred_times:
            summary += (
                "; all on preferred days and times"
                if honours
                else ("; not all on preferred days and times")
            )
        return SeriesProposal(tuple(sessions), honours, summary)


def check_series(
    availability: Availability, request: SeriesRequest, slots: Sequence[Slot]
) -> list[str]:
    """Everything wrong with booking `slots` as this series now (empty: book it): each slot free
    and inside working hours, the right count, strictly increasing, intervals within the range."""
    problems = []
    if len(slots) != request.sessions:
        problems.append(
            f"the series has {len(slots)} sessions; the plan asks for {request.sessions}"
        )
    for i, slot in enumerate(slots):
        problems += [f"session {i + 1}: {p}" for p in availability.problems(slot)]
        if i:
            prev, here = slots[i - 1], slot
            if here.start.timestamp() < prev.end.timestamp():  # same-zone < ignores DST folds
                problems.append(f"session {i + 1} starts before session {i} ends")
            days = (
                here.start.astimezone(availability.zone).date()
                - prev.start.astimezone(availability.zone).date()
            ).days
            if not request.min_interval_days <= days <= request.max_interval_days:
                problems.append(
                    f"session {i + 1} is {days} days after session {i}; allowed "
                    f"{request.min_interval_days}-{request.max_interval_days}"
                )
    return problems


def series_request_from_course(
    course: Course,
    kb: KnowledgeBase,
    practitioner: ResourceId,
    *,
    rooms: Sequence[ResourceId] = (),
    devices: Sequence[ResourceId] = (),
    earliest_start: date | None = None,
    **preferences: object,
) -> SeriesRequest:
    """A request for an accepted plan's course: its sessions, the protocols' interval range with
    the course's interval as the target, and the longest usual session length (the knowledge base
    counts numbing time in it). `preferences` are the other SeriesRequest fields."""
    low, high = course_interval_range(course, kb)
    target = min(max(course.interval_days, low), high)
    minutes = course.decision("session_minutes").value["max"]
    return SeriesRequest(
        practitioner=practitioner,
        sessions=course.sessions,
        duration_minutes=minutes,
        min_interval_days=low,
        max_interval_days=high,
        target_interval_days=target,
        earliest_start=max(course.earliest_start, earliest_start or course.earliest_start),
        rooms=tuple(rooms),
        devices=tuple(devices),
        **preferences,  # type: ignore[arg-type]
    )
