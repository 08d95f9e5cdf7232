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
from datetime import date
from typing import Any

from dermis.core.errors import InputError
from dermis.core.knowledge.schema import KnowledgeBase, Severity, Thickness
from dermis.core.patient import Assessment, Patient
from dermis.core.planning import (
    EPS,
    TIP_STRENGTH,
    Plan,
    allowed_tips,
    device_steps,
    needling_downtime,
    protocol_for,
)
from dermis.core.screening import Finding, Screening

TREATMENT_SETTINGS = ("depth_mm", "tip")
COURSE_SETTINGS = ("sessions", "interval_days")
UNITS = {"depth_mm": " mm", "sessions": " sessions", "interval_days": " days", "tip": ""}


def _fmt(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _cites(citations: Iterable[str]) -> str:
    keys = list(dict.fromkeys(citations))
    return f" [{', '.join(keys)}]" if keys else ""


@dataclass(frozen=True)
class Limit:
    """One bound on a setting: its value, what it is, and the sources behind it."""

    value: float
    label: str
    citations: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"value": self.value, "label": self.label, "citations": list(self.citations)}


@dataclass(frozen=True)
class Bounds:
    """Where one setting may go: between the tightest lower and upper limits, on `choices`."""

    what: str
    lower: tuple[Limit, ...] = ()
    upper: tuple[Limit, ...] = ()
    choices: tuple | None = None  # the allowed discrete values (depth settings, tips)
    choice_limit: Limit | None = None  # why other values are not choices (the device)
    refused: tuple[tuple[str, Limit], ...] = ()  # (value, why not) for named values, e.g. tips

    @property
    def lowest(self) -> float | None:
        return max((lim.value for lim in self.lower), default=None)

    @property
    def highest(self) -> float | None:
        return min((lim.value for lim in self.upper), default=None)

    @property
    def citations(self) -> tuple[str, ...]:
        limits = [*self.lower, *self.upper, *(lim for _, lim in self.refused)]
        if self.choice_limit:
            limits.append(self.choice_limit)
        return tuple(dict.fromkeys(c for lim in limits for c in lim.citations))

    @property
    def empty(self) -> bool:
        if self.choices is not None:
            return not self.choices
        return self.lowest is not None and self.highest is not None and self.lowest > self.highest

    def describe(self) -> str:
        """'0.5-1 mm (settings 0.5, 0.75, 1)', 'fine or medium', '3-6 sessions'."""
        unit = UNITS[self.what]
        if self.empty:
            return "no safe setting"
        if self.what == "tip":
            return " or ".join(self.choices or ())
        lo, hi = self.lowest, self.highest
        text = f"{_fmt(lo)}{unit}" if lo == hi else f"{_fmt(lo)}-{_fmt(hi)}{unit}"
        if self.choices is not None and len(self.choices) > 1:
            text += f" (settings {', '.join(_fmt(c) for c in self.choices)})"
        return text

    def explain(self) -> str:
        """Each limit with its value: 'usual range for ... 0.5-1 mm; anticoagulants: at most 1'."""
        unit = UNITS[self.what]
        spans: dict[str, list] = {}
        for lim in self.lower:
            spans.setdefault(lim.label, [None, None])[0] = lim.value
        for lim in self.upper:
            spans.setdefault(lim.label, [None, None])[1] = lim.value
        parts = []
        for label, (lo, hi) in spans.items():
            if lo is not None and hi is not None:
                value = f"{_fmt(lo)}-{_fmt(hi)}" if lo != hi else _fmt(lo)
            else:
                value = f"at least {_fmt(lo)}" if hi is None else f"at most {_fmt(hi)}"
            parts.append(f"{label}: {value}{unit}")
        parts += list(dict.fromkeys(lim.label for _, lim in self.refused))
        return "; ".join(parts)

    def check(self, value: Any, field: str) -> None:
        """Raise OutOfBounds naming the binding limit and its sources if `value` is outside."""
        unit = UNITS[self.what]
        if self.what == "tip":
            why = dict(self.refused).get(value)
            if why is not None:
                raise OutOfBounds(field, f"a {value} tip is not allowed: {why.label}", why)
            if value not in (self.choices or ()):
                lim = self.choice_limit or Limit(0, "not a known tip", ())
                raise OutOfBounds(field, f"'{value}' is not a tip of {lim.label}", lim)
            return
        above = [lim for lim in self.upper if value > lim.value + EPS]
        if above:
            lim = min(above, key=lambda x: x.value)
            raise OutOfBounds(
                field, f"{_fmt(value)}{unit} is above {lim.label} ({_fmt(lim.value)}{unit})", lim
            )
        below = [lim for lim in self.lower if value < lim.value - EPS]
        if below:
            lim = max(below, key=lambda x: x.value)
            raise OutOfBounds(
                field, f"{_fmt(value)}{unit} is below {lim.label} ({_fmt(lim.value)}{unit})", lim
            )
        if self.choices is not None and not any(abs(value - c) < 1e-6 for c in self.choices):
            lim = self.choice_limit or Limit(0, "the allowed settings", ())
            settings = ", ".join(_fmt(c) for c in self.choices) or "none"
            raise OutOfBounds(
                field, f"{lim.label} has no {_fmt(value)}{unit} setting here ({settings})", lim
            )

    def to_dict(self) -> dict:
        return {
            "what": self.what,
            "min": self.lowest,
            "max": self.highest,
            "choices": list(self.choices) if self.choices is not None else None,
            "text": self.describe(),
            "why": self.explain(),
            "citations": list(self.citations),
        }


class OutOfBounds(InputError):
    """A requested setting outside a safe limit; `limit` says which, with its sources."""

    def __init__(self, field: str, message: str, limit: Limit) -> None:
        super().__init__(field, message + _cites(limit.citations))
        self.limit = limit
        self.citations = limit.citations


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


def screening_from_dict(data: dict) -> Screening:
    """A stored Screening.to_dict() back as a Screening."""
    findings = tuple(
        Finding(
            rule=f["rule"],
            name=f["name"],
            modality=f["modality"],
            severity=Severity(f["severity"]),
            areas=tuple(f["areas"]),
            reason=f["reason"],
            action=f["action"],
            until=date.fromisoformat(f["until"]) if f.get("until") else None,
            depth_cap_mm=f.get("depth_cap_mm"),
            citations=tuple(f["citations"]),
            tip_cap=f.get("tip_cap"),
            passes_max=f.get("passes_max"),
            interval_min_days=f.get("interval_min_days"),
            avoid_metals=tuple(f.get("avoid_metals", ())),
            evidence=tuple(f.get("evidence", ())),
        )
        for f in data["findings"]
    )
    return Screening(as_of=date.fromisoformat(data["as_of"]), findings=findings)


def depth_bounds(
    area: str,
    concern: str,
    device_id: str,
    assessment: Assessment,
    screening: Screening,
    kb: KnowledgeBase,
) -> Bounds:
    """The needle depths allowed for a concern on an area: range, device, screening caps."""
    device = kb.devices[device_id]
    device_limit = Limit(0, device.name, tuple(device.sources))
    if device.depth_mm is None:
        return Bounds("depth_mm", choices=(), choice_limit=device_limit)
    profile = kb.concerns[concern].depth_profile
    limits = kb.depth_limits.get(area, {}).get(profile)
    if limits is None:
        return Bounds("depth_mm", choices=(), choice_limit=device_limit)
    thickness = Thickness(assessment.skin_thickness)
    rng = limits.for_thickness(thickness)
    where = f"{profile.replace('_', ' ')} treatment on the {kb.areas[area].name.lower()}"
    usual = f"the usual range for {where}, {thickness.value} skin"
    upper = [
        Limit(rng.max, usual, tuple(limits.sources)),
        Limit(device.depth_mm.max, f"the deepest setting of the {device.name}", device.sources),
    ]
    for f in screening.modifying("microneedling", area):
        if f.depth_cap_mm:
            upper.append(Limit(f.depth_cap_mm, f"the cap for {f.name.lower()}", f.citations))
    ceiling = min(lim.value for lim in upper)
    lower = Limit(rng.min, usual, tuple(limits.sources))
    settings = device_steps(device, rng.min, ceiling)
    if not settings:
        # A cap below the usual range: only shallower settings are safe (as the planner does).
        lower = Limit(
            device.depth_mm.min,
            f"the shallowest setting of the {device.name} (the cap leaves none in the usual range)",
            tuple(device.sources),
        )
        settings = device_steps(device, device.depth_mm.min, ceiling)
    return Bounds(
        "depth_mm",
        lower=(lower,),
        upper=tuple(upper),
        choices=tuple(settings),
        choice_limit=Limit(0, f"the {device.name}", tuple(device.sources)),
    )


def tip_bounds(device_id: str, patient: Patient, kb: KnowledgeBase) -> Bounds:
    """The tips allowed: the device's own, up to the strongest the phototype allows."""
    device = kb.devices[device_id]
    allowed = allowed_tips(patient, kb, device_id)
    adj = kb.adjustments.phototype[patient.fitzpatrick.value]
    refused = tuple(
        (
            t,
            Limit(
                TIP_STRENGTH.index(t),
                f"Fitzpatrick {patient.fitzpatrick.value} allows at most a "
                f"{adj.microdermabrasion_tip} tip (PIH risk)",
                tuple(adj.sources),
            ),
        )
        for t in (device.tips or {})
        if t not in allowed
    )
    return Bounds(
        "tip",
        choices=tuple(allowed),
        choice_limit=Limit(0, f"the {device.name}", tuple(device.sources)),
        refused=refused,
    )


def course_bounds(modality: str, concerns: Sequence[str], what: str, kb: KnowledgeBase) -> Bounds:
    """Sessions or interval for a course: inside every treatment's protocol.

    Sessions: at least every protocol's minimum, at most the largest maximum (a treatment stops
    at its own). Interval: every protocol's range at once; where they do not overlap, only the
    shortest interval that respects every minimum (as the planner does).
    """
    lower, upper = [], []
    for concern in dict.fromkeys(concerns):
        protocol = protocol_for(kb, modality, concern)
        rng = getattr(protocol, what)
        label = f"the {modality} protocol for {kb.concerns[concern].name.lower()}"
        lower.append(Limit(rng.min, label, tuple(protocol.sources)))
        upper.append(Limit(rng.max, label, tuple(protocol.sources)))
    if what == "sessions":
        upper = [max(upper, key=lambda x: x.value)]
    else:
        lo = max(lim.value for lim in lower)
        if min(lim.value for lim in upper) < lo:
            upper = [Limit(lo, "the shortest interval every protocol allows", lower[0].citations)]
    return Bounds(what, lower=tuple(lower), upper=tuple(upper))


def limits(
    plan: Plan | dict,
    patient: Patient,
    assessment: Assessment,
    screening: Screening | dict,
    kb: KnowledgeBase,
) -> list[dict]:
    """Per course: {'sessions', 'interval_days', 'treatments': [Bounds]} (what a form shows)."""
    content = plan.to_dict() if isinstance(plan, Plan) else plan
    if isinstance(screening, dict):
        screening = screening_from_dict(screening)
    out = []
    for course in content["courses"]:
        concerns = [t["concern"] for t in course["treatments"]]
        out.append(
            {
                "sessions": course_bounds(course["modality"], concerns, "sessions", kb),
                "interval_days": course_bounds(course["modality"], concerns, "interval_days", kb),
                "treatments": [
                    _treatment_bounds(course, t, patient, assessment, screening, kb)
                    for t in course["treatments"]
                ],
            }
        )
    return out


def _treatment_bounds(course, treatment, patient, assessment, screening, kb) -> Bounds:
    if course["modality"] == "microneedling":
        return depth_bounds(
            treatment["area"], treatment["concern"], treatment["device"], assessment, screening, kb
        )
    return tip_bounds(treatment["device"], patient, kb)


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
            concerns = [t["concern"] for t in course["treatments"]]
            bounds = course_bounds(course["modality"], concerns, change.what, kb)
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
