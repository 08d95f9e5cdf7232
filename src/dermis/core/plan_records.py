"""A treatment plan as values: decisions, treatments, courses, and their stored (dict) form.

The planner (`planning.py`) builds these; a stored plan is `Plan.to_dict()`, possibly changed by a
practitioner (`adjust.py`). `from_dict` reads either back, so nothing outside the core needs to know
the stored keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from dermis.core.screening import Finding, Screening

TIP_STRENGTH = ("fine", "medium", "coarse")
# Course settings a practitioner may change: the stored top-level value is the one in force.
COURSE_VALUES = ("sessions", "interval_days")


@dataclass(frozen=True)
class Decision:
    """One choice of the plan, with the reason and the sources that produced it."""

    what: str
    value: Any
    reason: str
    citations: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "what": self.what,
            "value": self.value,
            "reason": self.reason,
            "citations": list(self.citations),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Decision:
        return cls(d["what"], d.get("value"), d.get("reason", ""), tuple(d.get("citations") or ()))


@dataclass(frozen=True)
class Treatment:
    """One concern on one area, inside a course."""

    area: str
    concern: str
    severity: float
    band: str
    device: str
    depth_mm: float | None
    tip: str | None
    sessions: int
    decisions: tuple[Decision, ...]
    earliest_start: date | None = None  # later than the course's when a deferral is area-scoped

    def to_dict(self) -> dict:
        return {
            "earliest_start": self.earliest_start.isoformat() if self.earliest_start else None,
            "area": self.area,
            "concern": self.concern,
            "severity": self.severity,
            "severity_band": self.band,
            "device": self.device,
            "depth_mm": self.depth_mm,
            "tip": self.tip,
            "sessions": self.sessions,
            "decisions": [d.to_dict() for d in self.decisions],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Treatment:
        start = d.get("earliest_start")
        return cls(
            area=d["area"],
            concern=d["concern"],
            severity=d.get("severity", 0),
            band=d.get("severity_band", ""),
            device=d.get("device", ""),
            depth_mm=d.get("depth_mm"),
            tip=d.get("tip"),
            sessions=d.get("sessions", 0),
            decisions=tuple(Decision.from_dict(x) for x in d.get("decisions") or ()),
            earliest_start=date.fromisoformat(start)
            if (start := d.get("earliest_start"))
            else None,
        )


@dataclass(frozen=True)
class Course:
    """A series of sessions with one modality; every treatment in it is done at the same visits."""

    modality: str
    earliest_start: date
    treatments: tuple[Treatment, ...]
    decisions: tuple[Decision, ...]  # sessions, interval, maintenance, downtime, start, minutes
    serums: tuple[Decision, ...]
    precautions: tuple[Finding, ...]

    def decision(self, what: str) -> Decision:
        return next(d for d in self.decisions if d.what == what)

    @property
    def sessions(self) -> int:
        return self.decision("sessions").value

    @property
    def interval_days(self) -> int:
        return self.decision("interval_days").value

    @property
    def areas(self) -> tuple[str, ...]:
        """The treated areas, in the plan's order, each once."""
        return tuple(dict.fromkeys(t.area for t in self.treatments))

    def area_depths(self) -> dict[str, float]:
        """The needle depth per area. Two concerns on one area are treated at one setting in one
        visit, so the gentler (shallower) of their depths is used."""
        depths: dict[str, float] = {}
        for t in self.treatments:
            if t.depth_mm is not None:
                depths[t.area] = min(depths.get(t.area, t.depth_mm), t.depth_mm)
        return depths

    def area_tips(self) -> dict[str, str]:
        """The microdermabrasion tip per area: the gentlest of its treatments' tips, as for
        depths."""
        tips: dict[str, str] = {}
        for t in self.treatments:
            if t.tip in TIP_STRENGTH:
                tips[t.area] = min(tips.get(t.area, t.tip), t.tip, key=TIP_STRENGTH.index)
        return tips

    def to_dict(self) -> dict:
        return {
            "modality": self.modality,
            "earliest_start": self.earliest_start.isoformat(),
            "sessions": self.sessions,
            "interval_days": self.interval_days,
            "treatments": [t.to_dict() for t in self.treatments],
            "decisions": [d.to_dict() for d in self.decisions],
            "serums": [d.to_dict() for d in self.serums],
            "precautions": [f.to_dict() for f in self.precautions],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Course:
        """A stored course. Its top-level `sessions` and `interval_days` are what a revision set,
        so they win: the matching decisions carry them (and are added when missing)."""
        decisions = [Decision.from_dict(x) for x in d.get("decisions") or ()]
        for what in COURSE_VALUES:
            if what not in d:
                continue
            i = next((k for k, x in enumerate(decisions) if x.what == what), None)
            if i is None:
                decisions.append(Decision(what, d[what], "as stored with the course", ()))
            elif decisions[i].value != d[what]:
                decisions[i] = replace(decisions[i], value=d[what])
        return cls(
            modality=d["modality"],
            earliest_start=date.fromisoformat(d["earliest_start"]),
            treatments=tuple(Treatment.from_dict(t) for t in d.get("treatments") or ()),
            decisions=tuple(decisions),
            serums=tuple(Decision.from_dict(x) for x in d.get("serums") or ()),
            precautions=tuple(Finding.from_dict(f) for f in d.get("precautions") or ()),
        )


@dataclass(frozen=True)
class Plan:
    status: str  # "ok", "partial" (some concerns cannot be treated) or "not_safe"
    as_of: date
    knowledge_version: str
    courses: tuple[Course, ...]
    not_treated: tuple[Decision, ...]
    screening: Screening
    notes: tuple[str, ...] = field(default=())

    def course_for(self, modality: str) -> Course | None:
        """The plan's course of `modality` that treats something (None if there is none)."""
        return next((c for c in self.courses if c.modality == modality and c.treatments), None)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "as_of": self.as_of.isoformat(),
            "knowledge_version": self.knowledge_version,
            "courses": [c.to_dict() for c in self.courses],
            "not_treated": [d.to_dict() for d in self.not_treated],
            "screening": self.screening.to_dict(),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        """A stored plan (Plan.to_dict(), maybe adjusted) back as a Plan."""
        as_of = date.fromisoformat(data["as_of"])
        screening = data.get("screening")
        return cls(
            status=data.get("status", "ok"),
            as_of=as_of,
            knowledge_version=data.get("knowledge_version", ""),
            courses=tuple(Course.from_dict(c) for c in data.get("courses") or ()),
            not_treated=tuple(Decision.from_dict(x) for x in data.get("not_treated") or ()),
            screening=Screening.from_dict(screening) if screening else Screening(as_of, ()),
            notes=tuple(data.get("notes") or ()),
        )
