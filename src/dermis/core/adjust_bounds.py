"""The safe bounds a practitioner may move a plan's settings within: per area and concern the
needle depth (the knowledge base's range, the device's steps, the screening's caps), per device and
phototype the microdermabrasion tip, per course the sessions and the interval. Each bound names
the limit that binds and its sources."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dermis.core.errors import InputError
from dermis.core.knowledge.schema import KnowledgeBase, Severity, Thickness
from dermis.core.patient import Assessment, Patient
from dermis.core.planning import EPS, TIP_STRENGTH, Plan, allowed_tips, device_steps, protocol_for
from dermis.core.screening import Screening

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


def screening_from_dict(data: dict) -> Screening:
    """A stored Screening.to_dict() back as a Screening."""
    return Screening.from_dict(data)


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


def tip_bounds(
    device_id: str,
    patient: Patient,
    kb: KnowledgeBase,
    screening: Screening | None = None,
    area: str | None = None,
) -> Bounds:
    """The tips allowed: the device's own, up to the strongest the phototype allows and, on
    `area`, the gentlest cap of the screening's cautions (rosacea, active acne, pregnancy...)."""
    device = kb.devices[device_id]
    allowed = allowed_tips(patient, kb, device_id)
    adj = kb.adjustments.phototype[patient.fitzpatrick.value]
    refused = [
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
    ]
    caps = [
        f
        for f in (screening.modifying("microdermabrasion", area) if screening and area else ())
        if f.tip_cap
    ]
    if caps:
        cap = min(caps, key=lambda f: TIP_STRENGTH.index(f.tip_cap))
        names = ", ".join(dict.fromkeys(f.name.lower() for f in caps))
        why = Limit(TIP_STRENGTH.index(cap.tip_cap), f"at most a {cap.tip_cap} tip ({names})",
                    tuple(dict.fromkeys(c for f in caps for c in f.citations)))  # fmt: skip
        over = [t for t in allowed if TIP_STRENGTH.index(t) > TIP_STRENGTH.index(cap.tip_cap)]
        allowed = [t for t in allowed if t not in over]
        refused += [(t, why) for t in over]
    refused = tuple(refused)
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
        out.append(
            {
                "sessions": course_setting_bounds(course, "sessions", screening, kb),
                "interval_days": course_setting_bounds(course, "interval_days", screening, kb),
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
    return tip_bounds(treatment["device"], patient, kb, screening, treatment["area"])


def course_setting_bounds(
    course: dict, what: str, screening: Screening, kb: KnowledgeBase
) -> Bounds:
    """A stored course's sessions or interval bounds: its protocols', and for the interval the
    floor of the cautions covering its areas."""
    concerns = [t["concern"] for t in course["treatments"]]
    bounds = course_bounds(course["modality"], concerns, what, kb)
    return _with_floor(bounds, course, screening) if what == "interval_days" else bounds


def _with_floor(bounds: Bounds, course: dict, screening: Screening) -> Bounds:
    """The interval's bounds raised by the cautions covering the course's areas (at least 14 days
    apart for fragile skin...): the planner's own floor, so an edit cannot go under it."""
    areas = {t["area"] for t in course["treatments"]}
    floors = [
        f
        for f in screening.for_modality(course["modality"])
        if f.interval_min_days
        and f.severity is not Severity.ABSOLUTE
        and (not f.areas or areas & set(f.areas))
    ]
    if not floors:
        return bounds
    longest = max(f.interval_min_days for f in floors)
    names = ", ".join(dict.fromkeys(f.name.lower() for f in floors))
    cites = tuple(dict.fromkeys(c for f in floors for c in f.citations))
    floor = Limit(longest, f"at least {longest} days apart ({names})", cites)
    upper = bounds.upper if (bounds.highest or 0) >= longest else (floor,)
    return Bounds(bounds.what, lower=(*bounds.lower, floor), upper=upper)
