"""Safety screening: intake -> findings, each with severity, scope, action, date and source.

The rules are data (knowledge base `contraindications`); this module only knows how to evaluate
each kind of condition. Dates are computed from the intake, never described.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from dermis.core.errors import InputError
from dermis.core.knowledge.schema import Condition, KnowledgeBase, Severity
from dermis.core.patient import Intake, Patient, check_dates

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

    def covers(self, area: str) -> bool:
        return not self.areas or area in self.areas

    def to_dict(self) -> dict:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["until"] = self.until.isoformat() if self.until else None
        data["areas"] = list(self.areas)
        data["citations"] = list(self.citations)
        return data


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


# A match is (areas, until); `None` means the condition does not apply.
Match = tuple[tuple[str, ...], date | None]
Evaluator = Callable[[Condition, Patient, Intake, date], Match | None]


def _flag(condition: Condition, patient: Patient, intake: Intake, as_of: date) -> Match | None:
    return ((), None) if getattr(intake, condition.field) else None


def _choice(condition: Condition, patient: Patient, intake: Intake, as_of: date) -> Match | None:
    return ((), None) if getattr(intake, condition.field) == condition.equals else None


def _date_within(
    condition: Condition, patient: Patient, intake: Intake, as_of: date
) -> Match | None:
    when: date | None = getattr(intake, condition.field)
    if when is None:
        return None
    until = _window_end(when, condition)
    return ((), until) if as_of < until else None


def _procedure_within(
    condition: Condition, patient: Patient, intake: Intake, as_of: date
) -> Match | None:
    recent = [
        (p, _window_end(p.date, condition))
        for p in intake.recent_procedures
        if p.kind == condition.procedure
    ]
    active = [(p, until) for p, until in recent if as_of < until]
    if not active:
        return None
    until = max(u for _, u in active)
    if any(not p.areas for p, _ in active):
        return ((), until)
    areas = sorted({a for p, _ in active for a in p.areas})
    return (tuple(areas), until)


def _areas(condition: Condition, patient: Patient, intake: Intake, as_of: date) -> Match | None:
    areas: list[str] = getattr(intake, condition.field)
    return (tuple(sorted(set(areas))), None) if areas else None


def _phototype(condition: Condition, patient: Patient, intake: Intake, as_of: date) -> Match | None:
    return ((), None) if patient.fitzpatrick.value in (condition.phototypes or []) else None


EVALUATORS: dict[str, Evaluator] = {
    "flag": _flag,
    "choice": _choice,
    "date_within": _date_within,
    "procedure_within": _procedure_within,
    "areas": _areas,
    "phototype": _phototype,
}


def check_areas(intake: Intake, kb: KnowledgeBase) -> None:
    """Unknown area names are a user's mistake: name the field and the choices."""
    fields = {
        "intake.active_infection_areas": intake.active_infection_areas,
        "intake.active_acne_areas": intake.active_acne_areas,
    }
    for i, proc in enumerate(intake.recent_procedures):
        fields[f"intake.recent_procedures[{i}].areas"] = proc.areas
    for name, areas in fields.items():
        for j, area in enumerate(areas):
            if area not in kb.areas:
                raise InputError(
                    f"{name}[{j}]", f"unknown area '{area}' (known: {', '.join(kb.areas)})"
                )


def screen(patient: Patient, intake: Intake, kb: KnowledgeBase, as_of: date) -> Screening:
    """Evaluate every contraindication in the knowledge base for a treatment on `as_of`."""
    check_areas(intake, kb)
    check_dates(patient, intake, as_of)
    findings: list[Finding] = []
    for rule_id, rule in kb.contraindications.items():
        match = EVALUATORS[rule.condition.kind](rule.condition, patient, intake, as_of)
        if match is None:
            continue
        areas, until = match
        for modality, effect in rule.effects.items():
            action = effect.action.format(
                until=until.isoformat() if until else "",
                depth_cap_mm=effect.depth_cap_mm if effect.depth_cap_mm is not None else "",
            )
            findings.append(
                Finding(
                    rule=rule_id,
                    name=rule.name,
                    modality=modality,
                    severity=effect.severity,
                    areas=areas,
                    reason=rule.reason,
                    action=action,
                    until=until,
                    depth_cap_mm=effect.depth_cap_mm,
                    citations=tuple(rule.sources),
                )
            )
    rule_order = {rule_id: i for i, rule_id in enumerate(kb.contraindications)}
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], rule_order[f.rule], f.modality))
    return Screening(as_of=as_of, findings=tuple(findings))
