"""Safety screening: intake -> findings, each with severity, scope, action, date and source.

The rules are data (knowledge base `contraindications`); this module only knows how to evaluate
each kind of condition. Dates are computed from the intake, never described.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from dermis.core.errors import InputError
from dermis.core.knowledge.schema import Condition, KnowledgeBase, Severity
from dermis.core.patient import Intake, Patient, check_dates
from dermis.core.recognition import Fact, recognise
from dermis.core.screening_facts import (
    Context,
    Match,
    answers_with_facts,
    check_facts,
    fact_counts,
    fact_sets,
    metal_match,
)

SEVERITY_ORDER = {Severity.ABSOLUTE: 0, Severity.RELATIVE: 1, Severity.PRECAUTION: 2}


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    modality: str
    severity: Severity
    areas: tuple[str, ...]  # empty: every area
    reason: str
    action: str
    until: date | None
    depth_cap_mm: float | None
    citations: tuple[str, ...]
    # Added later, with defaults, so stored findings without them still load.
    tip_cap: str | None = None  # microdermabrasion: the strongest tip allowed
    passes_max: int | None = None  # microdermabrasion: passes over each area
    interval_min_days: int | None = None  # sessions at least this far apart
    avoid_metals: tuple[str, ...] = ()  # needles must contain none of these
    evidence: tuple[str, ...] = ()  # what triggered it: answers and "recognised from: '...'"

    def covers(self, area: str) -> bool:
        return not self.areas or area in self.areas

    def to_dict(self) -> dict:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["until"] = self.until.isoformat() if self.until else None
        data["areas"] = list(self.areas)
        data["citations"] = list(self.citations)
        data["avoid_metals"] = list(self.avoid_metals)
        data["evidence"] = list(self.evidence)
        return data

    @classmethod
    def from_dict(cls, d: dict) -> Finding:
        """The inverse of to_dict; optional keys (areas, action, until, cap, sources) may be
        missing."""
        until = d.get("until")
        cap = d.get("depth_cap_mm")
        return cls(
            rule=d["rule"],
            name=d.get("name", d["rule"]),
            modality=d["modality"],
            severity=Severity(d["severity"]),
            areas=tuple(d.get("areas") or ()),
            reason=d.get("reason", ""),
            action=d.get("action", ""),
            until=date.fromisoformat(until) if until else None,
            depth_cap_mm=float(cap) if cap is not None else None,
            citations=tuple(d.get("citations") or ()),
            tip_cap=d.get("tip_cap"),
            passes_max=d.get("passes_max"),
            interval_min_days=d.get("interval_min_days"),
            avoid_metals=tuple(d.get("avoid_metals") or ()),
            evidence=tuple(d.get("evidence") or ()),
        )


@dataclass(frozen=True)
class Screening:
    as_of: date
    findings: tuple[Finding, ...]

    def for_modality(self, modality: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.modality == modality)

    def blocking(self, modality: str, area: str) -> tuple[Finding, ...]:
        """Absolute findings that forbid `modality` on `area` (some only until a date)."""
        return tuple(
            f
            for f in self.for_modality(modality)
            if f.severity is Severity.ABSOLUTE and f.covers(area)
        )

    def modifying(self, modality: str, area: str) -> tuple[Finding, ...]:
        return tuple(
            f
            for f in self.for_modality(modality)
            if f.severity is not Severity.ABSOLUTE and f.covers(area)
        )

    @property
    def clear(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "findings": [f.to_dict() for f in self.findings]}

    @classmethod
    def from_dict(cls, d: dict) -> Screening:
        """The inverse of to_dict (a stored screening back as a Screening)."""
        findings = tuple(Finding.from_dict(f) for f in d.get("findings") or ())
        return cls(as_of=date.fromisoformat(d["as_of"]), findings=findings)


def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later, clamped to the month's end (31 Aug + 6 -> 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _window_end(start: date, condition: Condition) -> date:
    end = start
    if condition.months:
        end = add_months(end, condition.months)
    if condition.days:
        end = end + timedelta(days=condition.days)
    return end


Evaluator = Callable[[Condition, Context], Match | None]


def _evidence_for(field: str, ctx: Context) -> tuple[str, ...]:
    """Why an intake answer is set: the box as given, and the facts that answer it."""
    found = []
    if getattr(ctx.given, field) != Intake.model_fields[field].get_default(
        call_default_factory=True
    ):
        found.append(f"intake.{field}: {getattr(ctx.given, field)}")  # as the box was ticked
    found += [f.recognised_from for f in ctx.facts if field in fact_sets(f, ctx.kb)]
    return tuple(dict.fromkeys(found))


def _flag(condition: Condition, ctx: Context) -> Match | None:
    if not getattr(ctx.intake, condition.field):
        return None
    return Match((), None, _evidence_for(condition.field, ctx))


def _choice(condition: Condition, ctx: Context) -> Match | None:
    if getattr(ctx.intake, condition.field) != condition.equals:
        return None
    return Match((), None, _evidence_for(condition.field, ctx))


def _date_within(condition: Condition, ctx: Context) -> Match | None:
    when: date | None = getattr(ctx.intake, condition.field)
    if when is None:
        return None
    until = _window_end(when, condition)
    return Match((), until, (f"intake.{condition.field}: {when}",)) if ctx.as_of < until else None


def _procedure_within(condition: Condition, ctx: Context) -> Match | None:
    recent = [
        (p, _window_end(p.date, condition))
        for p in ctx.intake.recent_procedures
        if p.kind == condition.procedure
    ]
    active = [(p, until) for p, until in recent if ctx.as_of < until]
    if not active:
        return None
    until = max(u for _, u in active)
    evidence = tuple(f"{p.kind.replace('_', ' ')} on {p.date}" for p, _ in active)
    if any(not p.areas for p, _ in active):
        return Match((), until, evidence)
    areas = sorted({a for p, _ in active for a in p.areas})
    return Match(tuple(areas), until, evidence)


def _areas(condition: Condition, ctx: Context) -> Match | None:
    areas = set(getattr(ctx.intake, condition.field))
    if not areas:
        return None
    named = ", ".join(sorted(areas))
    if condition.scope == "face" and any(ctx.kb.areas[a].region == "face" for a in areas):
        # Anywhere on the face widens to the whole face (a cold sore beside the cheeks).
        areas |= {a for a, spec in ctx.kb.areas.items() if spec.region == "face"}
    return Match(tuple(sorted(areas)), None, (f"intake.{condition.field}: {named}",))


def _phototype(condition: Condition, ctx: Context) -> Match | None:
    value = ctx.patient.fitzpatrick.value
    if value not in (condition.phototypes or []):
        return None
    return Match((), None, (f"Fitzpatrick {value}",))


def _fact(condition: Condition, ctx: Context) -> Match | None:
    if condition.unless_field and getattr(ctx.intake, condition.unless_field):
        return None
    classes = set(condition.classes or ())
    hits = [
        f
        for f in ctx.facts
        if f.class_id in classes and (f.past if condition.past else fact_counts(f, ctx.kb))
    ]
    if not hits:
        return None
    areas: tuple[str, ...] = ()
    if condition.scoped and all(f.areas for f in hits):
        areas = tuple(sorted({a for f in hits for a in f.areas}))
    names = ", ".join(dict.fromkeys(f.entry or f.label for f in hits))
    evidence = tuple(dict.fromkeys(f.recognised_from for f in hits))
    return Match(areas, None, evidence, (("recognised", names),))


def _age_below(condition: Condition, ctx: Context) -> Match | None:
    age = ctx.patient.age
    return Match((), None, (f"age {age}",)) if age < (condition.years or 0) else None


EVALUATORS: dict[str, Evaluator] = {
    "flag": _flag,
    "choice": _choice,
    "date_within": _date_within,
    "procedure_within": _procedure_within,
    "areas": _areas,
    "phototype": _phototype,
    "fact": _fact,
    "metal": metal_match,
    "age_below": _age_below,
}


def check_areas(intake: Intake, kb: KnowledgeBase) -> None:
    """Unknown area names are a user's mistake: name the field and the choices."""
    fields = {
        "intake.active_infection_areas": intake.active_infection_areas,
        "intake.active_acne_areas": intake.active_acne_areas,
        "intake.active_herpes_areas": intake.active_herpes_areas,
    }
    for i, proc in enumerate(intake.recent_procedures):
        fields[f"intake.recent_procedures[{i}].areas"] = proc.areas
    for name, areas in fields.items():
        for j, area in enumerate(areas):
            if area not in kb.areas:
                raise InputError(
                    f"{name}[{j}]", f"unknown area '{area}' (known: {', '.join(kb.areas)})"
                )


def screen(
    patient: Patient,
    intake: Intake,
    kb: KnowledgeBase,
    as_of: date,
    facts: Sequence[Fact] | None = None,
) -> Screening:
    """Evaluate every contraindication in the knowledge base for a treatment on `as_of`.

    `facts` are what the free text says, as a practitioner confirmed or corrected them; None
    recognises them from the intake now (unconfirmed facts count: screening errs on the safe
    side until someone removes a wrong one).
    """
    check_areas(intake, kb)
    check_dates(patient, intake, as_of)
    known = tuple(recognise(intake, kb).facts if facts is None else facts)
    check_facts(known, kb)
    ctx = Context(patient, answers_with_facts(intake, known, kb), intake, as_of, known, kb)
    findings: list[Finding] = []
    for rule_id, rule in kb.contraindications.items():
        match = EVALUATORS[rule.condition.kind](rule.condition, ctx)
        if match is None:
            continue
        for modality, effect in rule.effects.items():
            values = _Blank(
                until=match.until.isoformat() if match.until else "",
                depth_cap_mm=effect.depth_cap_mm if effect.depth_cap_mm is not None else "",
                **dict(match.values),
            )
            findings.append(
                Finding(
                    rule=rule_id,
                    name=rule.name,
                    modality=modality,
                    severity=effect.severity,
                    areas=match.areas,
                    reason=rule.reason,
                    action=effect.action.format_map(values),
                    until=match.until,
                    depth_cap_mm=effect.depth_cap_mm,
                    citations=tuple(rule.sources),
                    tip_cap=effect.tip_cap,
                    passes_max=effect.passes_max,
                    interval_min_days=effect.interval_min_days,
                    avoid_metals=tuple(dict.fromkeys([*effect.avoid_metals, *match.avoid_metals])),
                    evidence=match.evidence,
                )
            )
    rule_order = {rule_id: i for i, rule_id in enumerate(kb.contraindications)}
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], rule_order[f.rule], f.modality))
    return Screening(as_of=as_of, findings=tuple(findings))


class _Blank(dict):
    """Placeholders a rule's evaluator did not fill read as empty text."""

    def __missing__(self, key: str) -> str:
        return ""
