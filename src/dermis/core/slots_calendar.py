"""A clinic's calendar for the slot finder: working hours, time off, busy resources; indexed once.

Times are timezone-aware datetimes outside and integer epoch seconds inside. Busy intervals are
half-open [start, end), merged per resource into sorted lists, so "is this interval free?" is one
binary search per resource whatever the size of the calendar.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from dermis.core.errors import InputError

ResourceId = (
    Hashable  # a practitioner's, room's or device's id: whatever the caller uses (int, str)
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class ResourceKind(StrEnum):
    PRACTITIONER = "practitioner"
    ROOM = "room"
    DEVICE = "device"  # one physical device: busy wherever it is in use


KINDS = {kind.value: kind for kind in ResourceKind}


def require_aware(value: datetime, field: str) -> int:
    """Epoch seconds of an aware datetime; a naive one is a user error naming the field."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InputError(field, "needs a date, a time and a time zone")
    return int(value.timestamp())


def check_interval(start: datetime, end: datetime, field: str) -> tuple[int, int]:
    s, e = require_aware(start, f"{field}.start"), require_aware(end, f"{field}.end")
    if e <= s:
        raise InputError(f"{field}.end", "must be after the start")
    return s, e


@dataclass(frozen=True)
class WorkingHours:
    """Weekly hours in the clinic's zone: weekday (0 = Monday) -> (start, end) local times."""

    by_weekday: Mapping[int, Sequence[tuple[time, time]]]

    def __post_init__(self) -> None:
        normal: dict[int, tuple[tuple[time, time], ...]] = {}
        for day, windows in self.by_weekday.items():
            field = f"working_hours[{day}]"
            if day not in range(7):
                raise InputError(field, "weekday must be 0 (Monday) to 6 (Sunday)")
            spans = sorted((s, e) for s, e in windows)
            for s, e in spans:
                if s.tzinfo or e.tzinfo:
                    raise InputError(
                        field, "local times without a zone (the clinic's zone applies)"
                    )
                if e <= s:
                    raise InputError(field, f"end {e:%H:%M} is not after start {s:%H:%M}")
            for (_, e1), (s2, _) in pairwise(spans):
                if s2 < e1:
                    raise InputError(field, f"windows overlap at {s2:%H:%M}")
            if spans:
                normal[day] = tuple(spans)
        object.__setattr__(self, "by_weekday", MappingProxyType(normal))

    @classmethod
    def every(cls, weekdays: Iterable[int], start: time, end: time) -> WorkingHours:
        """The same hours on each of the given weekdays."""
        return cls({d: [(start, end)] for d in weekdays})


@dataclass(frozen=True)
class TimeOff:
    practitioner: ResourceId
    start: datetime
    end: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        check_interval(self.start, self.end, "time_off")


@dataclass(frozen=True)
class Busy:
    """An existing booking (or a block) of one resource."""

    kind: ResourceKind
    resource: ResourceId
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        check_interval(self.start, self.end, "busy")


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    practitioner: ResourceId
    room: ResourceId | None = None
    device: ResourceId | None = None

    @property
    def minutes(self) -> int:
        # real minutes: subtracting two datetimes in the same zone gives wall-clock time
        return round((self.end.timestamp() - self.start.timestamp()) / 60)

    def to_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "practitioner": self.practitioner,
            "room": self.room,
            "device": self.device,
        }


class IntervalIndex:
    """Merged busy intervals per key, as sorted lists of epoch seconds (bisect beats numpy on
    one scalar query; numpy does the one-off sort and merge)."""

    def __init__(self, intervals: Iterable[tuple[Hashable, int, int]]) -> None:
        grouped: dict[Hashable, tuple[list[int], list[int]]] = {}
        for key, s, e in intervals:
            starts, ends = grouped.setdefault(key, ([], []))
            starts.append(s)
            ends.append(e)
        self.size = sum(len(s) for s, _ in grouped.values())
        self._merged = {key: _merge(s, e) for key, (s, e) in grouped.items()}

    def blocking_end(self, key: Hashable, start: int, end: int) -> int | None:
        """None if [start, end) is free for `key`, else when the block overlapping it ends."""
        merged = self._merged.get(key)
        if merged is None:
            return None
        starts, ends = merged
        i = bisect_left(starts, end) - 1
        # merged blocks are disjoint and sorted, so the last one starting before `end` is the
        # only one that can reach past `start`
        if i >= 0 and ends[i] > start:
            return ends[i]
        return None

    def blocks(self, key: Hashable) -> int:
        merged = self._merged.get(key)
        return len(merged[0]) if merged else 0


def _merge(starts: list[int], ends: list[int]) -> tuple[list[int], list[int]]:
    s, e = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(len(s), dtype=bool)
    new[1:] = s[1:] > reach[:-1]  # touching intervals merge: [a, b) + [b, c) = [a, c)
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(s) - 1)
    return s[first].tolist(), reach[last].tolist()


def _zone(zone: ZoneInfo | str) -> ZoneInfo:
    if isinstance(zone, ZoneInfo):
        return zone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("zone", f"unknown time zone '{zone}'") from None


class Availability:
    """Everything the slot finder reads, indexed once: build it per request or keep it warm.

    `working_hours` maps practitioner id -> WorkingHours in the clinic's `zone`; `busy` are the
    existing bookings of practitioners, rooms and devices; `time_off` blocks practitioners.
    `busy_epochs` are more bookings as (kind, resource, start, end) in epoch seconds, for a
    caller that reads hundreds from a store of aware times: a `Busy` each costs more than the
    rest of the index (each interval is still checked: an end not after its start is refused).
    """

    def __init__(
        self,
        zone: ZoneInfo | str,
        working_hours: Mapping[ResourceId, WorkingHours],
        busy: Iterable[Busy] = (),
        time_off: Iterable[TimeOff] = (),
        *,
        busy_epochs: Iterable[tuple[ResourceKind, ResourceId, int, int]] = (),
    ) -> None:
        self.zone = _zone(zone)
        self.working_hours = dict(working_hours)
        intervals = [
            ((b.kind, b.resource), int(b.start.timestamp()), int(b.end.timestamp())) for b in busy
        ]
        for kind, resource, start, end in busy_epochs:
            if not (isinstance(start, int) and isinstance(end, int)):
                raise InputError("busy.start", "needs epoch seconds")
            if end <= start:
                raise InputError("busy.end", "must be after the start")
            if kind not in KINDS:
                raise InputError("busy.kind", f"one of {', '.join(KINDS)}")
            intervals.append(((KINDS[kind], resource), start, end))
        self.busy = IntervalIndex(intervals)
        self.time_off = IntervalIndex(
            (t.practitioner, int(t.start.timestamp()), int(t.end.timestamp())) for t in time_off
        )

    def local(self, epoch: int) -> datetime:
        return datetime.fromtimestamp(epoch, self.zone)

    def midnight(self, day: date) -> int:
        return int(datetime.combine(day, time(0), tzinfo=self.zone).timestamp())

    def windows(
        self,
        practitioner: ResourceId,
        day: date,
        within: Sequence[tuple[time, time]] = (),
    ) -> list[tuple[int, int]]:
        """The practitioner's working windows on a local date as epoch seconds, optionally cut to
        the local time windows `within`. Times that a DST change skips resolve as zoneinfo does
        (to the offset before the change), so windows keep their real length."""
        hours = self.working_hours.get(practitioner)
        if hours is None:
            return []
        spans = hours.by_weekday.get(day.weekday(), ())
        if within:
            spans = [
                (max(s, ps), min(e, pe))
                for s, e in spans
                for ps, pe in within
                if max(s, ps) < min(e, pe)
            ]
        out = []
        for s, e in spans:
            ws = int(datetime.combine(day, s, tzinfo=self.zone).timestamp())
            we = int(datetime.combine(day, e, tzinfo=self.zone).timestamp())
            if we > ws:
                out.append((ws, we))
        return sorted(out)

    def problems(self, slot: Slot) -> list[str]:
        """Why `slot` cannot be booked (empty when it can): hours, time off, busy resources."""
        s, e = check_interval(slot.start, slot.end, "slot")
        who = slot.practitioner
        problems = []
        if who not in self.working_hours:
            problems.append(f"practitioner {who} has no working hours")
        elif not any(ws <= s and e <= we for ws, we in self.windows(who, self.local(s).date())):
            problems.append(f"outside practitioner {who}'s working hours")
        if (until := self.time_off.blocking_end(who, s, e)) is not None:
            problems.append(f"practitioner {who} is on time off until {self._fmt(until)}")
        for kind, rid in (
            (ResourceKind.PRACTITIONER, who),
            (ResourceKind.ROOM, slot.room),
            (ResourceKind.DEVICE, slot.device),
        ):
            if rid is not None and (until := self.busy.blocking_end((kind, rid), s, e)) is not None:
                problems.append(f"{kind.value} {rid} is busy until {self._fmt(until)}")
        return problems

    def is_free(self, slot: Slot) -> bool:
        """True when the slot is inside working hours and free for every resource it names."""
        return not self.problems(slot)

    def _fmt(self, epoch: int) -> str:
        return f"{self.local(epoch):%a %d %b %Y %H:%M}"
