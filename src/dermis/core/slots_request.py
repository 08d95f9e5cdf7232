"""What the slot finder is asked (SeriesRequest) and what it answers (proposals, reschedules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dermis.core.errors import InputError
from dermis.core.slots_calendar import ResourceId, Slot, require_aware


@dataclass(frozen=True)
class SeriesRequest:
    """A whole series for one patient with one practitioner.

    Intervals are counted in calendar days in the clinic's zone (a session on the 1st and the next
    on the 29th are 28 days apart, across a DST change too). Each session needs the practitioner,
    one of `rooms` and one of `devices` (an empty tuple: not needed). Preferred weekdays (0 =
    Monday) and local time windows are honoured when possible; with `require_preferences` only
    slots that honour them are proposed. Slots start on a `granularity_minutes` grid from local
    midnight and must fit inside both a working window and (to count as preferred) a preferred one.
    """

    practitioner: ResourceId
    sessions: int
    duration_minutes: int
    min_interval_days: int
    max_interval_days: int
    earliest_start: date
    target_interval_days: int | None = None  # defaults to the minimum
    latest_date: date | None = None  # the last date any session may fall on
    rooms: tuple[ResourceId, ...] = ()
    devices: tuple[ResourceId, ...] = ()
    preferred_weekdays: frozenset[int] = frozenset()
    preferred_times: tuple[tuple[time, time], ...] = ()
    require_preferences: bool = False
    granularity_minutes: int = 15
    not_before: datetime | None = None  # e.g. now: no slot starts earlier
    # without latest_date, the last date is this many days after earliest_start (by default: the
    # series at its longest intervals plus half a year)
    horizon_days: int | None = None

    def __post_init__(self) -> None:
        def fix(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        fix("rooms", tuple(dict.fromkeys(self.rooms)))
        fix("devices", tuple(dict.fromkeys(self.devices)))
        fix("preferred_weekdays", frozenset(self.preferred_weekdays))
        fix("preferred_times", _merged_times(self.preferred_times))
        _at_least("sessions", self.sessions, 1)
        _at_least("duration_minutes", self.duration_minutes, 1)
        if self.duration_minutes > 24 * 60:
            raise InputError("duration_minutes", "must be at most a day (1440 minutes)")
        _at_least("min_interval_days", self.min_interval_days, 1)
        _at_least("max_interval_days", self.max_interval_days, self.min_interval_days)
        if self.target_interval_days is None:
            fix("target_interval_days", self.min_interval_days)
        elif not self.min_interval_days <= self.target_interval_days <= self.max_interval_days:
            raise InputError(
                "target_interval_days",
                f"{self.target_interval_days} is outside the allowed "
                f"{self.min_interval_days}-{self.max_interval_days} days",
            )
        if not isinstance(self.earliest_start, date) or isinstance(self.earliest_start, datetime):
            raise InputError("earliest_start", "must be a date")
        if self.latest_date is not None:
            span = (self.sessions - 1) * self.min_interval_days
            if (self.latest_date - self.earliest_start).days < span:
                raise InputError(
                    "latest_date",
                    f"leaves less than the {span} days that {self.sessions} sessions at least "
                    f"{self.min_interval_days} days apart need after {self.earliest_start}",
                )
        for day in sorted(self.preferred_weekdays):
            if day not in range(7):
                raise InputError("preferred_weekdays", f"{day} is not a weekday (0 = Monday ... 6)")
        _at_least("granularity_minutes", self.granularity_minutes, 1)
        if self.horizon_days is not None:
            span = (self.sessions - 1) * self.min_interval_days
            _at_least("horizon_days", self.horizon_days, max(span, 1))
        if self.not_before is not None:
            require_aware(self.not_before, "not_before")

    @property
    def last_date(self) -> date:
        if self.latest_date is not None:
            return self.latest_date
        days = self.horizon_days
        if days is None:
            days = (self.sessions - 1) * self.max_interval_days + 182
        return self.earliest_start + timedelta(days=days)


def _merged_times(windows: object) -> tuple[tuple[time, time], ...]:
    """Checked, sorted local time windows, overlapping ones merged."""
    spans = []
    for i, window in enumerate(windows):  # type: ignore[attr-defined]
        s, e = window if isinstance(window, tuple | list) and len(window) == 2 else (None, None)
        if not (isinstance(s, time) and isinstance(e, time)) or s.tzinfo or e.tzinfo:
            raise InputError(f"preferred_times[{i}]", "needs a local start and end time")
        if e <= s:
            raise InputError(f"preferred_times[{i}]", "the end must be after the start")
        spans.append((s, e))
    merged: list[tuple[time, time]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return tuple(merged)


def _at_least(name: str, value: object, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(name, "must be a whole number")
    if value < low:
        raise InputError(name, f"must be at least {low}")


@dataclass(frozen=True)
class SessionChoice:
    """One proposed session and why it is there."""

    index: int  # 0-based; shown to people as index + 1
    slot: Slot
    interval_days: int | None  # from the previous session
    preferred_day: bool
    preferred_time: bool
    reason: str

    def to_dict(self) -> dict:
        return {
            "session": self.index + 1,
            **self.slot.to_dict(),
            "interval_days": self.interval_days,
            "preferred_day": self.preferred_day,
            "preferred_time": self.preferred_time,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class SeriesProposal:
    sessions: tuple[SessionChoice, ...]
    honours_preferences: bool  # every session on a preferred day and time
    summary: str

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(s.slot for s in self.sessions)

    def to_dict(self) -> dict:
        return {
            "sessions": [s.to_dict() for s in self.sessions],
            "honours_preferences": self.honours_preferences,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class SeriesResult:
    """The best series and up to k alternatives, or no proposal and the reason."""

    proposal: SeriesProposal | None
    alternatives: tuple[SeriesProposal, ...] = ()
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.proposal is not None

    def best(self) -> SeriesProposal:
        """The proposal, or an InputError on `series` saying why none fits."""
        if self.proposal is None:
            raise InputError("series", self.reason)
        return self.proposal

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "proposal": self.proposal.to_dict() if self.proposal else None,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Rescheduled:
    """The series after moving one session: which later sessions must move, and why."""

    ok: bool
    slots: tuple[Slot, ...]  # the whole series as proposed (empty when not ok)
    moved: tuple[int, ...]  # 0-based indices of the later sessions that must move
    changes: tuple[str, ...]  # one line per moved session
    problems: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "slots": [s.to_dict() for s in self.slots],
            "moved_sessions": [i + 1 for i in self.moved],
            "changes": list(self.changes),
            "problems": list(self.problems),
        }
