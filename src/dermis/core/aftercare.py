"""Aftercare and pre-care: a session -> day-by-day instructions with absolute times.

The rules (what, for how long, for which modality, depth or phototype) are knowledge-base data;
this module turns them into a personal schedule from the session's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dermis.core.errors import InputError
from dermis.core.knowledge.schema import AftercareRule, KnowledgeBase, PrecareRule
from dermis.core.patient import Intake, Patient, Session
from dermis.core.recognition import Fact, recognise
from dermis.core.screening_facts import answers_with_facts

KIND_ORDER = {"care": 0, "avoid": 1, "expect": 2, "warning": 3}


@dataclass(frozen=True)
class Instruction:
    rule: str
    kind: str  # care, avoid, expect, warning
    text: str
    starts: datetime
    ends: datetime
    citations: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "text": self.text,
            "starts": self.starts.isoformat(timespec="minutes"),
            "ends": self.ends.isoformat(timespec="minutes"),
            "citations": list(self.citations),
        }


@dataclass(frozen=True)
class DayEntry:
    rule: str
    kind: str
    text: str
    note: str  # "from 18:00", "until 15:00", "" when it runs all day


@dataclass(frozen=True)
class Day:
    number: int  # 0 is the day of the session
    date: date
    entries: tuple[DayEntry, ...]

    def to_dict(self) -> dict:
        return {
            "day": self.number,
            "date": self.date.isoformat(),
            "entries": [
                {"rule": e.rule, "kind": e.kind, "text": e.text, "note": e.note}
                for e in self.entries
            ],
        }


@dataclass(frozen=True)
class PrecareItem:
    rule: str
    text: str
    days_before: int
    from_date: date
    citations: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "text": self.text,
            "days_before": self.days_before,
            "from_date": self.from_date.isoformat(),
            "citations": list(self.citations),
        }


@dataclass(frozen=True)
class Aftercare:
    modality: str
    depth_mm: float | None
    session_end: datetime
    instructions: tuple[Instruction, ...]
    days: tuple[Day, ...]
    precare: tuple[PrecareItem, ...]

    def warnings(self) -> tuple[Instruction, ...]:
        return tuple(i for i in self.instructions if i.kind == "warning")

    def to_dict(self) -> dict:
        return {
            "modality": self.modality,
            "depth_mm": self.depth_mm,
            "session_end": self.session_end.isoformat(timespec="minutes"),
            "precare": [p.to_dict() for p in self.precare],
            "instructions": [i.to_dict() for i in self.instructions],
            "days": [d.to_dict() for d in self.days],
            "call_the_clinic_if": [i.text for i in self.warnings()],
        }


def _hours(rule: AftercareRule, modality: str, depth_mm: float | None) -> float:
    if modality == "microneedling" and rule.hours_by_depth and depth_mm is not None:
        windows = sorted(rule.hours_by_depth, key=lambda w: w.up_to_depth_mm)
        return next((w.hours for w in windows if depth_mm <= w.up_to_depth_mm), windows[-1].hours)
    if rule.hours is not None:
        return rule.hours
    return min(w.hours for w in rule.hours_by_depth or ())


def _applies(rule: AftercareRule | object, modality: str, patient: Patient, intake: Intake) -> bool:
    if modality not in rule.modalities:
        return False
    phototypes = getattr(rule, "phototypes", None)
    if phototypes and patient.fitzpatrick.value not in phototypes:
        return False
    if any(getattr(intake, flag) for flag in getattr(rule, "unless", ())):
        return False
    return not (rule.when and not getattr(intake, rule.when))


def precare_rules(
    modality: str,
    kb: KnowledgeBase,
    patient: Patient | None = None,
    intake: Intake | None = None,
) -> list[tuple[str, PrecareRule]]:
    """The pre-care rules (id, rule) for a `modality` session. A rule tied to an intake answer or a
    phototype applies only when that answer or phototype is known and matches."""
    out = []
    for rule_id, rule in kb.precare.items():
        if modality not in rule.modalities:
            continue
        phototypes = getattr(rule, "phototypes", None)
        if phototypes and (patient is None or patient.fitzpatrick.value not in phototypes):
            continue
        if rule.when and (intake is None or not getattr(intake, rule.when)):
            continue
        if intake is not None and any(getattr(intake, flag) for flag in rule.unless):
            continue
        out.append((rule_id, rule))
    return out


def _answers(intake: Intake, kb: KnowledgeBase, facts: Sequence[Fact] | None) -> Intake:
    """The answers with those the free text gives (a pregnancy written only in the history)."""
    known = tuple(recognise(intake, kb).facts if facts is None else facts)
    return answers_with_facts(intake, known, kb)


def precare(
    session: Session,
    patient: Patient,
    intake: Intake,
    kb: KnowledgeBase,
    facts: Sequence[Fact] | None = None,
) -> tuple:
    """What to stop or start before the session, with the date to start doing it.

    `facts` as for `screen()`: None recognises them from the intake's free text.
    """
    intake = _answers(intake, kb, facts)
    items = [
        PrecareItem(
            rule_id,
            rule.text,
            rule.days_before,
            session.start.date() - timedelta(days=rule.days_before),
            tuple(rule.sources),
        )
        for rule_id, rule in precare_rules(session.modality, kb, patient, intake)
    ]
    return tuple(sorted(items, key=lambda p: (-p.days_before, p.rule)))


def _note(item: Instruction, day_start: datetime, day_end: datetime) -> str:
    parts = []
    if item.starts > day_start:
        parts.append(f"from {item.starts:%H:%M}")
    if item.ends < day_end:
        parts.append(f"until {item.ends:%H:%M}")
    return " ".join(parts)


def aftercare(
    session: Session,
    patient: Patient,
    intake: Intake,
    kb: KnowledgeBase,
    facts: Sequence[Fact] | None = None,
) -> Aftercare:
    """The personal aftercare schedule for one session (`facts` as for `screen()`)."""
    if session.modality == "microneedling" and session.depth_mm is None:
        raise InputError("session.depth_mm", "is required for microneedling aftercare")
    if session.modality == "microdermabrasion" and session.depth_mm is not None:
        raise InputError("session.depth_mm", "does not apply to microdermabrasion (use tip)")
    known = tuple(recognise(intake, kb).facts if facts is None else facts)
    intake = answers_with_facts(intake, known, kb)
    end = session.start + timedelta(minutes=session.duration_minutes)
    instructions = []
    for rule_id, rule in kb.aftercare.items():
        if not _applies(rule, session.modality, patient, intake):
            continue
        starts = end + timedelta(hours=rule.start_hours)
        ends = starts + timedelta(hours=_hours(rule, session.modality, session.depth_mm))
        instructions.append(
            Instruction(rule_id, rule.kind, rule.text, starts, ends, tuple(rule.sources))
        )
    rule_order = {rule_id: i for i, rule_id in enumerate(kb.aftercare)}
    instructions.sort(key=lambda i: (KIND_ORDER[i.kind], rule_order[i.rule]))

    # The schedule runs until the last care or avoid instruction ends; warnings stand beside it.
    last = max((i.ends for i in instructions if i.kind in ("care", "avoid")), default=end)
    days = []
    first_day = session.start.date()
    for n in range((last.date() - first_day).days + 1):
        day = first_day + timedelta(days=n)
        day_start = datetime.combine(day, time.min, tzinfo=end.tzinfo)
        day_end = day_start + timedelta(days=1)
        entries = tuple(
            DayEntry(i.rule, i.kind, i.text, _note(i, day_start, day_end))
            for i in instructions
            if i.kind != "warning" and i.starts < day_end and i.ends > day_start
        )
        days.append(Day(n, day, entries))
    return Aftercare(
        session.modality,
        session.depth_mm,
        end,
        tuple(instructions),
        tuple(days),
        precare(session, patient, intake, kb, known),
    )
