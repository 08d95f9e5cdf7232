"""A practitioner's changes to a proposed plan, kept inside the bounds the planner works within.

The planner picks a point inside the knowledge base's limits; a practitioner may move it, never
out of them. A refusal names the limit that binds and its sources; an accepted change is recorded
({what, area, concern, from, to, reason}, plus the course's modality) and explained in the plan's
own decision, so the record says who moved what, from where, why, and within which limits.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dermis.core.adjust_bounds import (  # re-exported: the web and tests import them from here
    COURSE_SETTINGS,
    TREATMENT_SETTINGS,
    UNITS,
    Bounds,
    _cites,
    _fmt,
    _treatment_bounds,
    course_setting_bounds,
    screening_from_dict,
)
from dermis.core.adjust_bounds import Limit as Limit
from dermis.core.adjust_bounds import OutOfBounds as OutOfBounds
from dermis.core.adjust_bounds import depth_bounds as depth_bounds
from dermis.core.adjust_bounds import limits as limits
from dermis.core.adjust_bounds import tip_bounds as tip_bounds
from dermis.core.errors import InputError
from dermis.core.knowledge.schema import KnowledgeBase
from dermis.core.patient import Assessment, Patient
from dermis.core.planning import (
    EPS,
    Plan,
    needling_downtime,
    protocol_for,
)
from dermis.core.screening import Screening


@dataclass(frozen=True)
class Change:
    """One requested setting: course `course` (and treatment `treatment` for depth_mm/tip)."""

    course: int
    what: str  # depth_mm, tip (per treatment); sessions, interval_days (per course)
    value: Any
    reason: str = ""
    treatment: int | None = None

    @property
    def field(self) -> str:
        where = f"courses[{self.course}]"
        if self.treatment is not None:
            where += f".treatments[{self.treatment}]"
        return f"{where}.{self.what}"

    @property
    def reason_field(self) -> str:
        return self.field.rsplit(".", 1)[0] + ".reason"


@dataclass(frozen=True)
class Adjusted:
    content: dict  # Plan.to_dict() shape with the changes applied
    adjustments: list[dict]  # every difference from the proposal, with its reason
    changes: list[dict]  # what this call changed (from the plan it was given)
    warnings: list[str]


def _value(change: Change) -> Any:
    value = change.value
    if change.what == "tip":
        if not isinstance(value, str) or not value:
            raise InputError(change.field, "choose a tip")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(change.field, "must be a number")
    if change.what == "depth_mm":
        if value <= 0:
            raise InputError(change.field, "must be more than 0 mm")
        return float(value)
    if value != int(value):
        raise InputError(change.field, "must be a whole number")
    return int(value)


def _decision(holder: dict, what: str) -> dict | None:
    return next((d for d in holder["decisions"] if d["what"] == what), None)


def _explain(holder: dict, what: str, old, new, reason: str, bounds: Bounds) -> None:
    decision = _decision(holder, what)
    if decision is None:
        return
    unit = UNITS[what]
    decision["value"] = new
    decision["reason"] = (
        f"changed by the practitioner from {_fmt(old)}{unit} to {_fmt(new)}{unit}: {reason}. "
        f"Allowed here: {bounds.describe()} ({bounds.explain()})"
    )
    decision["citations"] = list(bounds.citations)


def _phototype_warning(t: dict, depth: float, patient: Patient, assessment, kb) -> str | None:
    """Deeper than the planner goes for darker skin: allowed, but said out loud."""
    adj = kb.adjustments.phototype[patient.fitzpatrick.value]
    if adj.depth_position_factor >= 1:
        return None
    profile = kb.concerns[t["concern"]].depth_profile
    rng = kb.depth_limits[t["area"]][profile].for_thickness(assessment.skin_thickness)
    usual = rng.min + adj.depth_position_factor * (rng.max - rng.min)
    if depth <= usual + EPS:
        return None
    return (
        f"{kb.areas[t['area']].name}: {_fmt(depth)} mm is deeper than the planner goes for "
        f"Fitzpatrick {patient.fitzpatrick.value} ({_fmt(round(usual, 3))} mm, "
        f"{adj.depth_position_factor:.0%} of the range) because of PIH risk{_cites(adj.sources)}"
    )


def _set_sessions(course: dict, n: int, kb: KnowledgeBase) -> None:
    """Fewer visits: each treatment stops by n. More: each rises toward n within its protocol."""
    old = course["sessions"]
    for t in course["treatments"]:
        protocol = protocol_for(kb, course["modality"], t["concern"])
        before = t["sessions"]
        after = min(before, n) if n < old else max(before, min(n, protocol.sessions.max))
        if after == before:
            continue
        t["sessions"] = after
        decision = _decision(t, "sessions")
        if decision is not None:
            decision["value"] = after
            decision["reason"] = (
                f"{after} sessions: the practitioner set the course to {n}; this treatment's "
                f"protocol allows {protocol.sessions.min}-{protocol.sessions.max}"
            )
            decision["citations"] = list(protocol.sources)
    course["sessions"] = n


def _refresh_downtime(course: dict, kb: KnowledgeBase) -> None:
    if course["modality"] != "microneedling":
        return
    decision = _decision(course, "downtime_days")
    if decision is None:
        return
    deepest = max(t["depth_mm"] or 0 for t in course["treatments"])
    band = needling_downtime(kb, deepest)
    decision["value"] = {"min": band.days.min, "max": band.days.max}
    decision["reason"] = f"deepest setting {_fmt(float(deepest))} mm"
    decision["citations"] = list(band.sources)


def _key(record: dict) -> tuple:
    return (record.get("modality"), record["area"], record["concern"], record["what"])


def _merge(history: Iterable[dict], made: list[dict]) -> list[dict]:
    """Differences from the proposal: a new change to a setting replaces its earlier record."""
    merged = {_key(r): dict(r) for r in history}
    for record in made:
        earlier = merged.get(_key(record))
        if earlier is not None:
            record = {**record, "from": earlier["from"]}
        merged[_key(record)] = record
        if record["from"] == record["to"]:
            del merged[_key(record)]  # back to what the planner proposed
    return list(merged.values())


def adjust(
    plan: Plan | dict,
    changes: Sequence[Change],
    patient: Patient,
    assessment: Assessment,
    screening: Screening | dict,
    kb: KnowledgeBase,
    history: Iterable[dict] = (),
) -> Adjusted:
    """Apply `changes` to `plan` (a proposal, or a plan version whose records are `history`).

    A change equal to the current value is ignored. Raises InputError (OutOfBounds for a limit)
    naming the field, e.g. 'courses[0].treatments[1].depth_mm'; nothing is applied then.
    """
    content = copy.deepcopy(plan.to_dict() if isinstance(plan, Plan) else plan)
    if isinstance(screening, dict):
        screening = screening_from_dict(screening)
    made: list[dict] = []
    warnings: list[str] = []
    seen: set[tuple] = set()
    for change in changes:
        course, treatment, holder = _target(content, change)
        key = (change.course, change.treatment, change.what)
        if key in seen:
            raise InputError(change.field, "is changed twice in one request")
        seen.add(key)
        value = _value(change)
        old = holder[change.what]
        if old == value or (change.what == "depth_mm" and old and abs(old - value) < 1e-6):
            continue
        reason = " ".join(str(change.reason or "").split())
        if not reason:
            raise InputError(change.reason_field, "say why this setting changes (for the record)")
        if treatment is not None:
            bounds = _treatment_bounds(course, treatment, patient, assessment, screening, kb)
        else:
            bounds = course_setting_bounds(course, change.what, screening, kb)
        bounds.check(value, change.field)
        if change.what == "sessions":
            _set_sessions(course, value, kb)
        else:
            holder[change.what] = value
        _explain(holder, change.what, old, value, reason, bounds)
        if change.what == "depth_mm":
            _refresh_downtime(course, kb)
            warning = _phototype_warning(treatment, value, patient, assessment, kb)
            if warning:
                warnings.append(warning)
        made.append(
            {
                "what": change.what,
                "modality": course["modality"],
                "area": treatment["area"] if treatment else None,
                "concern": treatment["concern"] if treatment else None,
                "from": old,
                "to": value,
                "reason": reason,
            }
        )
    return Adjusted(content, _merge(history, made), made, warnings)


def _target(content: dict, change: Change) -> tuple[dict, dict | None, dict]:
    courses = content["courses"]
    if not 0 <= change.course < len(courses):
        raise InputError(f"courses[{change.course}]", "there is no such course in the plan")
    course = courses[change.course]
    if change.what in COURSE_SETTINGS:
        if change.treatment is not None:
            raise InputError(change.field, "is set per course, not per treatment")
        return course, None, course
    if change.what not in TREATMENT_SETTINGS:
        raise InputError(change.field, "is not a setting that can be adjusted")
    if change.treatment is None or not 0 <= change.treatment < len(course["treatments"]):
        raise InputError(change.field, "there is no such treatment in the course")
    treatment = course["treatments"][change.treatment]
    if (change.what == "depth_mm") != (course["modality"] == "microneedling"):
        setting = "a needle depth" if change.what == "depth_mm" else "a tip"
        raise InputError(change.field, f"a {course['modality']} treatment has no {setting}")
    return course, treatment, treatment
