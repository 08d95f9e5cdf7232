"""What screening's rules read: the intake's answers, completed by the recognised facts.

A recognised fact whose lexicon class `sets` an intake answer (an anticoagulant sets
`anticoagulants`) gives that answer, so the box and the free text trigger the same rule. Metal
allergy is matched here against the metals in each device's needles.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import date
from typing import Any

from dermis.core.errors import InputError
from dermis.core.knowledge.schema import Condition, KnowledgeBase, LexiconEntry
from dermis.core.patient import Intake, Patient
from dermis.core.recognition import Fact

SECTION_OF_KIND = {"medicine": "medicines", "condition": "conditions", "allergen": "allergens"}
# The metal presumed when a patient says "metal allergy" without naming one: nickel is the most
# common metal contact allergen and the one the safety review names (chu2021).
PRESUMED_METAL = "nickel"
UNNAMED_METAL = "metal"  # the lexicon's entry for "metal", "jewellery": no metal named


@dataclass(frozen=True)
class Context:
    """What a rule is evaluated against: the answers (with those the facts give) and the facts."""

    patient: Patient
    intake: Intake  # the answers, with those recognised facts give
    given: Intake  # the answers as given
    as_of: date
    facts: tuple[Fact, ...]
    kb: KnowledgeBase


@dataclass(frozen=True)
class Match:
    areas: tuple[str, ...]  # empty: every area
    until: date | None
    evidence: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()  # for the action's placeholders
    avoid_metals: tuple[str, ...] = ()


def _entry(fact: Fact, kb: KnowledgeBase) -> LexiconEntry | None:
    section = getattr(kb.lexicon, SECTION_OF_KIND.get(fact.kind, "medicines"))
    return section.get(fact.entry) if fact.entry else None


def fact_counts(fact: Fact, kb: KnowledgeBase) -> bool:
    """A current fact counts; a past one only for classes where the past matters."""
    return not fact.past or kb.lexicon.classes[fact.class_id].past_counts


def fact_sets(fact: Fact, kb: KnowledgeBase) -> dict[str, Any]:
    """The intake answers this fact gives (none for a fact that does not count)."""
    if not fact_counts(fact, kb):
        return {}
    entry = _entry(fact, kb)
    if entry is not None and entry.sets is not None and entry.class_id == fact.class_id:
        return dict(entry.sets)
    return dict(kb.lexicon.classes[fact.class_id].sets)


def _stronger(field: str, current: Any, value: Any) -> Any:
    """Facts only ever add to an answer: True over False, 'uncontrolled' over 'controlled'."""
    if isinstance(current, bool):
        return current or bool(value)
    if isinstance(current, list):
        return current
    choices = typing.get_args(Intake.model_fields[field].annotation)
    if current in choices and value in choices:
        return max(current, value, key=choices.index)
    return current if current is not None else value


def answers_with_facts(intake: Intake, facts: tuple[Fact, ...], kb: KnowledgeBase) -> Intake:
    update: dict[str, Any] = {}
    for fact in facts:
        for field, value in fact_sets(fact, kb).items():
            update[field] = _stronger(field, update.get(field, getattr(intake, field)), value)
    if intake.active_herpes_areas:  # an active cold sore is a cold-sore history
        update["herpes_simplex_history"] = True
    return intake.model_copy(update=update) if update else intake


def check_facts(facts: tuple[Fact, ...], kb: KnowledgeBase) -> None:
    """Facts supplied by a front end must name a known class and known areas."""
    for i, fact in enumerate(facts):
        if fact.class_id not in kb.lexicon.classes:
            known = ", ".join(kb.lexicon.classes)
            raise InputError(
                f"facts[{i}].class_id", f"unknown class '{fact.class_id}' (known: {known})"
            )
        for j, area in enumerate(fact.areas):
            if area not in kb.areas:
                raise InputError(f"facts[{i}].areas[{j}]", f"unknown area '{area}'")


def _needle_devices(kb: KnowledgeBase) -> list[tuple[str, Any]]:
    return [
        (device_id, d)
        for device_id, d in kb.devices.items()
        if d.modality == "microneedling" and d.setting == "professional"
    ]


def _metal_advice(metals: list[str], presumed: bool, kb: KnowledgeBase) -> str:
    parts = []
    if presumed:
        parts.append(
            f"no metal named: ask which; until then {PRESUMED_METAL} is assumed "
            "(the most common metal contact allergen)"
        )
    free, unknown = [], []
    for _, device in _needle_devices(kb):
        material = device.needle_material or "material not recorded"
        clash = [m for m in metals if m in device.needle_metals]
        if clash:
            parts.append(
                f"the {device.name}'s needles ({material}) contain {' and '.join(clash)}: "
                "do not use them"
            )
        elif device.needle_metals:
            free.append(f"the {device.name} ({material})")
        else:
            unknown.append(device.name)
    none_of = " or ".join(metals)
    if free:
        parts.append(f"needles with no {none_of}: {'; '.join(free)}")
    else:
        parts.append(f"no needle in the knowledge base is free of {none_of}: do not microneedle")
    if unknown:
        parts.append(f"check the maker's data sheet for the {', '.join(unknown)}")
    return "; ".join(parts)


def metal_match(condition: Condition, ctx: Context) -> Match | None:
    """Metal allergy by metal: the named metals, or nickel when the patient names none."""
    classes = set(condition.classes or ("metal",))
    hits = [f for f in ctx.facts if f.class_id in classes and fact_counts(f, ctx.kb)]
    metals = sorted({f.entry for f in hits if f.entry and f.entry != UNNAMED_METAL})
    unnamed = any(f.entry in (None, UNNAMED_METAL) for f in hits)
    if condition.field and getattr(ctx.given, condition.field):
        unnamed = True
    if not metals and not unnamed:
        return None
    presumed = not metals
    if presumed:
        metals = [PRESUMED_METAL]
    evidence = [f.recognised_from for f in hits]
    if condition.field and getattr(ctx.given, condition.field):
        evidence.insert(0, f"intake.{condition.field}: True")
    values = (
        ("recognised", ", ".join(metals)),
        ("metal_advice", _metal_advice(metals, presumed, ctx.kb)),
    )
    return Match((), None, tuple(dict.fromkeys(evidence)), values, tuple(metals))
