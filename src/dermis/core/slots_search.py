"""The search inside the slot finder: free starts on one day, then dates for a whole series.

Whether a later session fits depends only on the dates of the earlier ones (sessions are at least
a day apart, so they never compete for a resource), so the backtracking runs over dates, and
"no series of r more sessions after date d" is remembered: each (r, d) is tried once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dermis.core.slots_calendar import (
    Availability,
    ResourceId,
    ResourceKind,
    _zone,
    require_aware,
)
from dermis.core.slots_request import SeriesRequest

Start = tuple[int, ResourceId | None, ResourceId | None]  # epoch seconds, room, device


def same_search_until(
    zone: ZoneInfo | str, not_before: datetime, granularity_minutes: int
) -> datetime:
    """How long a search from `not_before` stays the same search: a series search with any
    `not_before` from this one up to the moment returned (both included) proposes the same.

    The finder cuts each working window at `not_before` (to the whole second) and starts slots on
    a grid of `granularity_minutes` from each local midnight, so moving `not_before` changes
    nothing until it passes the first grid point at or after it on its day, or that day's end if
    sooner. A caller keeps a proposal under this moment (`not_before` rounded up to it) until then.
    """
    moment, zone = require_aware(not_before, "not_before"), _zone(zone)
    day = datetime.fromtimestamp(moment, zone).date()
    midnight = int(datetime.combine(day, time(0), tzinfo=zone).timestamp())
    step = granularity_minutes * 60
    first = midnight + -((midnight - moment) // step) * step  # first grid point >= moment
    next_midnight = int(datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).timestamp())
    return datetime.fromtimestamp(min(first, next_midnight), zone)


class DayFinder:
    """Free starts for one request's practitioner, rooms and devices; memoised per date."""

    def __init__(self, availability: Availability, request: SeriesRequest) -> None:
        self.av = availability
        self.req = request
        self.duration = request.duration_minutes * 60
        self.step = request.granularity_minutes * 60
        self.not_before = int(request.not_before.timestamp()) if request.not_before else None
        self._who = request.practitioner
        self._busy_key = (ResourceKind.PRACTITIONER, request.practitioner)
        self._has: dict[tuple[date, bool], bool] = {}

    def preferred_day(self, day: date) -> bool:
        return not self.req.preferred_weekdays or day.weekday() in self.req.preferred_weekdays

    def windows(self, day: date, weekday: bool, times: bool) -> list[tuple[int, int]]:
        """Working windows on `day`, cut to the preferred weekdays and/or times when asked."""
        if weekday and not self.preferred_day(day):
            return []
        spans = self.av.windows(self._who, day, self.req.preferred_times if times else ())
        if self.not_before is not None:
            spans = [(max(s, self.not_before), e) for s, e in spans if e > self.not_before]
        return spans

    def fit(
        self,
        start: int,
        end: int,
        rooms: Iterable[ResourceId] | None = None,
        devices: Iterable[ResourceId] | None = None,
    ) -> tuple[int | None, ResourceId | None, ResourceId | None]:
        """(None, room, device) if [start, end) is free for the practitioner and one room and one
        device; else (t, None, None): no start in [start, t) can be free (the earliest release)."""
        busy = self.av.busy
        block = max(
            busy.blocking_end(self._busy_key, start, end) or 0,
            self.av.time_off.blocking_end(self._who, start, end) or 0,
        )
        if block:
            return block, None, None
        room, block = self.one_of(
            ResourceKind.ROOM, self.req.rooms if rooms is None else rooms, start, end
        )
        if room is None and block:
            return block, None, None
        device, block = self.one_of(
            ResourceKind.DEVICE, self.req.devices if devices is None else devices, start, end
        )
        if device is None and block:
            return block, None, None
        return None, room, device

    def one_of(
        self, kind: ResourceKind, ids: Iterable[ResourceId], start: int, end: int
    ) -> tuple[ResourceId | None, int]:
        """The first free resource of `ids` (None, 0 if none is needed), else (None, release)."""
        release = 0
        for rid in ids:
            until = self.av.busy.blocking_end((kind, rid), start, end)
            if until is None:
                return rid, 0
            release = until if not release else min(release, until)
        return None, release

    def starts(self, day: date, weekday: bool, times: bool) -> Iterator[Start]:
        """Every free start on the grid, earliest first."""
        spans = self.windows(day, weekday, times)
        if not spans:
            return
        midnight = self.av.midnight(day)
        step, duration = self.step, self.duration
        for ws, we in spans:
            t = midnight + -((midnight - ws) // step) * step  # first grid point >= ws
            while t + duration <= we:
                jump, room, device = self.fit(t, t + duration)
                if jump is None:
                    yield t, room, device
                    t += step
                else:
                    t = midnight + -((midnight - jump) // step) * step

    def has(self, day: date, strict: bool) -> bool:
        """Is there any free start on `day` (on preferred days and times only, when strict)?"""
        key = (day, strict)
        found = self._has.get(key)
        if found is None:
            found = next(self.starts(day, strict, strict), None) is not None
            self._has[key] = found
        return found

    def choose(self, day: date, strict: bool, anchor: int | None) -> tuple[Start, bool]:
        """The start on `day` nearest `anchor` (local minutes after midnight; None: earliest),
        inside the preferred times if any is free there; and whether it is."""
        for times in (True, False) if self.req.preferred_times else (False,):
            best, gap = None, None
            for found in self.starts(day, strict, times):
                if anchor is None:
                    best = found
                    break
                minute = self.minute(found[0])
                if gap is None or abs(minute - anchor) < gap:
                    best, gap = found, abs(minute - anchor)
                if minute >= anchor:  # starts come in time order: later ones are farther
                    break
            if best is not None:
                return best, times or not self.req.preferred_times
            if strict:
                break
        raise AssertionError(f"no free start on {day}, which the search said had one")

    def minute(self, epoch: int) -> int:
        local = self.av.local(epoch)
        return local.hour * 60 + local.minute


class DateSearch:
    """Backtracking over session dates; `candidates(k, prev)` orders the dates tried for session k
    after a session on `prev`, and `usable(k, day)` says whether session k can go on `day`."""

    def __init__(
        self,
        sessions: int,
        candidates: Callable[[int, date], Iterable[date]],
        usable: Callable[[int, date], bool],
    ) -> None:
        self.sessions = sessions
        self.candidates = candidates
        self.usable = usable
        self.dead: set[tuple[int, date]] = set()
        self.placed = 0  # the most sessions any partial series reached

    def complete(self, k: int, prev: date) -> list[date] | None:
        """Dates for sessions k, k+1, ... after a session on `prev`, or None."""
        self.placed = max(self.placed, k)
        if k == self.sessions:
            return []
        if (k, prev) in self.dead:
            return None
        for day in self.candidates(k, prev):
            if self.usable(k, day):
                rest = self.complete(k + 1, day)
                if rest is not None:
                    return [day, *rest]
        self.dead.add((k, prev))
        return None

    def first(self, days: Iterable[date]) -> list[date] | None:
        for day in days:
            if self.usable(0, day):
                rest = self.complete(1, day)
                if rest is not None:
                    return [day, *rest]
        return None


def window(prev: date, low: int, high: int, last: date | None) -> list[date]:
    days = [prev + timedelta(days=n) for n in range(low, high + 1)]
    return [d for d in days if last is None or d <= last]
