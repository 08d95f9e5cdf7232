"""Maintenance planner: the fewest sessions that keep a chosen quantile above noticeable.

Greedy and as late as possible: after each session, find the first day the chosen quantile of
improvement would drop below the noticeable threshold, then book the next session on the latest
day (within the minimum and maximum interval) that still keeps it above until the earliest day a
further session could be booked. A later session always carries the result further (the effect of
a session is the same shifted in time, and a later one meets less saturation), so booking each one
as late as possible uses the fewest sessions; the tests compare it with every fixed interval.

When the chosen quantile never reaches noticeable after the series, maintenance cannot keep what
was never there: the plan books nothing and recommends reassessing the plan (a longer series,
another depth or modality, or accepting a smaller result).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dermis.core.errors import InputError
from dermis.core.outcome import kinetics as kx
from dermis.core.outcome.inputs import validate_sessions
from dermis.core.outcome.model import OutcomeModel

YEAR = 365.25
FIXED_RECALLS = (("fixed_6_months", 182), ("fixed_12_months", 365))
_CHUNK = 128
_ONSET_WAIT = 90  # when the series never reaches noticeable, the goal starts 3 months after it


@dataclass(frozen=True)
class RecallComparison:
    strategy: str
    interval_days: int | None
    maintenance_days: tuple[int, ...]
    days_below: int

    @property
    def sessions(self) -> int:
        return len(self.maintenance_days)

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "interval_days": self.interval_days,
            "sessions": self.sessions,
            "days_below_noticeable": self.days_below,
            "maintenance_days": list(self.maintenance_days),
        }


@dataclass(frozen=True)
class MaintenancePlan:
    series: tuple[int, ...]
    maintenance_days: tuple[int, ...]
    quantile: float
    years: float
    goal_start_day: int
    goal_end_day: int
    min_interval_days: int
    max_interval_days: int
    noticeable_threshold: float
    days_below: int
    comparisons: tuple[RecallComparison, ...]
    recommendation: str = "maintain"  # or "reassess": the series never reaches noticeable
    notes: tuple[str, ...] = ()
    parameter_set: str = "packaged"

    @property
    def feasible(self) -> bool:
        return self.days_below == 0

    def to_dict(self) -> dict[str, Any]:
        """The `dermis maintain --json` contract."""
        return {
            "series": list(self.series),
            "maintenance_days": list(self.maintenance_days),
            "sessions": len(self.maintenance_days),
            "goal": {
                "years": self.years,
                "quantile": self.quantile,
                "start_day": self.goal_start_day,
                "end_day": self.goal_end_day,
            },
            "min_interval_days": self.min_interval_days,
            "max_interval_days": self.max_interval_days,
            "noticeable_threshold": self.noticeable_threshold,
            "feasible": self.feasible,
            "days_below_noticeable": self.days_below,
            "comparison": [c.to_dict() for c in self.comparisons],
            "recommendation": self.recommendation,
            "notes": list(self.notes),
            "parameter_set": self.parameter_set,
        }


class _Curve:
    """The chosen quantile of log-severity, evaluated in chunks from a state."""

    def __init__(self, model: OutcomeModel, quantile: float) -> None:
        self.model = model
        self.prob = 1.0 - quantile  # improvement's q-quantile is log-severity's (1-q)-quantile
        self.limit = kx.log_severity_at(model.threshold_pct_, model.kinetics_.ceiling)

    def values(self, state: kx.State, start: int, stop: int) -> kx.F64:
        y = self.model.log_severity((), start, stop, state)
        return kx.quantile_row(y, self.prob)

    def first(self, state: kx.State, start: int, end: int, below: bool) -> int | None:
        """First day in [start, end] that is below (or, below=False, at/above) noticeable."""
        day = start
        while day <= end:
            stop = min(end + 1, day + _CHUNK)
            v = self.values(state, day, stop)
            hits = np.nonzero(v > self.limit if below else v <= self.limit)[0]
            if hits.size:
                return day + int(hits[0])
            day = stop
        return None

    def count_below(self, state: kx.State, sessions: Sequence[int], start: int, end: int) -> int:
        y = self.model.log_severity(sessions, start, end + 1, state)
        return int(np.count_nonzero(kx.quantile_row(y, self.prob) > self.limit))


def _validate(years: float, quantile: float, min_days: int, max_days: int) -> None:
    if not 0 < years <= 30:
        raise InputError("--years", f"must be more than 0 and at most 30, got {years}")
    if not 0 < quantile < 1:
        raise InputError("--quantile", f"must be between 0 and 1 (e.g. 0.5), got {quantile}")
    if not 0 < min_days <= max_days:
        raise InputError(
            "maintenance interval", f"need 0 < minimum <= maximum, got {min_days}..{max_days} days"
        )


def plan_maintenance(
    model: OutcomeModel,
    series: Sequence[int],
    years: float,
    quantile: float = 0.5,
    *,
    min_interval_days: int,
    max_interval_days: int,
) -> MaintenancePlan:
    """Maintenance days after `series` keeping the `quantile` noticeable for `years` after it.

    The goal window runs from the day that quantile first reaches noticeable after the last
    series session to `years` after that session. `model` must be fitted for the patient.
    """
    series = validate_sessions(series)
    _validate(years, quantile, min_interval_days, max_interval_days)
    curve = _Curve(model, quantile)
    last = series[-1]
    end = last + round(years * YEAR)
    after_series = model.state_after(series)
    onset = curve.first(after_series, last, min(end, last + 365), below=False)
    start = onset if onset is not None else min(end, last + _ONSET_WAIT)
    notes = list(model.notes_)
    if onset is None:
        notes.insert(
            0,
            f"The p{quantile * 100:g} improvement never reaches noticeable "
            f"({model.threshold_pct_:g} %) after this series: maintenance cannot keep a result "
            "that is not there. Reassess the plan (more sessions, another depth or modality, or a "
            "smaller goal) and grade the result at a follow-up before booking maintenance.",
        )

    state, booked = after_series, []
    failure = curve.first(state, start, end, below=True) if onset is not None else None
    while failure is not None:
        lo = state.day + min_interval_days
        if lo > end:
            break
        hi = max(lo, min(state.day + max_interval_days, failure))

        def holds(t: int, state: kx.State = state, failure: int = failure) -> bool:
            # a session only ever raises the curve, so days before `failure` stay fine
            s = kx.apply_session(model.kinetics_, model.draws_, state, t)
            check_to = min(end, max(t + min_interval_days, failure))
            return curve.first(s, max(t, failure), check_to, below=True) is None

        if holds(hi):
            day = hi
        elif not holds(lo):
            day = lo  # nothing in range keeps it noticeable: the best effort
        else:
            ok, bad = lo, hi
            while bad - ok > 1:
                mid = (ok + bad) // 2
                ok, bad = (mid, bad) if holds(mid) else (ok, mid)
            day = ok
        state = kx.apply_session(model.kinetics_, model.draws_, state, day)
        booked.append(day)
        failure = curve.first(state, max(day, start), end, below=True)

    comparisons = [RecallComparison("planned", None, tuple(booked), 0)]
    for name, every in FIXED_RECALLS:
        comparisons.append(RecallComparison(name, every, tuple(range(last + every, end, every)), 0))
    counted = tuple(
        RecallComparison(
            c.strategy,
            c.interval_days,
            c.maintenance_days,
            curve.count_below(after_series, c.maintenance_days, start, end),
        )
        for c in comparisons
    )
    return MaintenancePlan(
        series=series,
        maintenance_days=tuple(booked),
        quantile=quantile,
        years=years,
        goal_start_day=start,
        goal_end_day=end,
        min_interval_days=min_interval_days,
        max_interval_days=max_interval_days,
        noticeable_threshold=model.threshold_pct_,
        days_below=counted[0].days_below,
        comparisons=counted[1:],
        recommendation="maintain" if onset is not None else "reassess",
        notes=tuple(notes),
        parameter_set=model.version_,
    )
