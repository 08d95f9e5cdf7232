"""Load the knowledge base: the packaged YAML files, optionally overlaid by a clinic's own file.

A clinic file has the same sections as the default files. Mappings are merged key by key, so a
clinic can change one number (`contraindications: {isotretinoin: {condition: {months: 12}}}`) or
add a rule without restating the rest; lists are replaced whole. The merged result is validated
exactly like the defaults, and an error names the file and the key that is wrong.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dermis.core import yaml_text
from dermis.core.errors import KnowledgeError
from dermis.core.knowledge.schema import KnowledgeBase
from dermis.core.patient import Intake

DATA_DIR = Path(__file__).parent / "data"
ENV_VAR = "DERMIS_KNOWLEDGE"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(str(path), "(file)", f"cannot be read: {exc.strerror}") from None
    try:
        data = yaml_text.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}" if where else "(file)"
        raise KnowledgeError(str(path), line, f"is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KnowledgeError(str(path), "(top level)", "must be a mapping of sections")
    return data


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return over


def _has_path(data: Any, path: tuple[Any, ...]) -> bool:
    for part in path:
        if not isinstance(data, Mapping) or part not in data:
            return False
        data = data[part]
    return True


def _default_sections() -> tuple[dict[str, Any], dict[str, Path]]:
    merged: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for path in sorted(DATA_DIR.glob("*.yaml")):
        for section, value in _read_yaml(path).items():
            if section in merged:
                raise KnowledgeError(str(path), section, f"also defined in {origin[section].name}")
            merged[section] = value
            origin[section] = path
    return merged, origin


def _cross_references(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    """Yield (key, problem) for every reference that points nowhere."""

    def need(collection: Mapping[str, Any], ref: str, key: str, what: str) -> Iterator:
        if ref not in collection:
            yield key, f"unknown {what} '{ref}'"

    for section in (
        "modalities",
        "devices",
        "scales",
        "serums",
        "aftercare",
        "precare",
        "contraindications",
    ):
        for rule_id, rule in getattr(kb, section).items():
            for cite in rule.sources:
                yield from need(kb.bibliography, cite, f"{section}.{rule_id}.sources", "citation")
    for concern_id, concern in kb.concerns.items():
        yield from need(kb.scales, concern.scale, f"concerns.{concern_id}.scale", "scale")
        for modality, suit in concern.modalities.items():
            key = f"concerns.{concern_id}.modalities.{modality}"
            yield from need(kb.modalities, modality, key, "modality")
            for cite in suit.sources:
                yield from need(kb.bibliography, cite, f"{key}.sources", "citation")
    for device_id, device in kb.devices.items():
        yield from need(kb.modalities, device.modality, f"devices.{device_id}.modality", "modality")
    for area, profiles in kb.depth_limits.items():
        yield from need(kb.areas, area, f"depth_limits.{area}", "area")
        for profile, limit in profiles.items():
            for cite in limit.sources:
                yield from need(kb.bibliography, cite, f"depth_limits.{area}.{profile}", "citation")
    for modality, by_concern in kb.protocols.items():
        yield from need(kb.modalities, modality, f"protocols.{modality}", "modality")
        for concern, protocol in by_concern.items():
            key = f"protocols.{modality}.{concern}"
            if concern != "default":
                yield from need(kb.concerns, concern, key, "concern")
            for cite in protocol.sources:
                yield from need(kb.bibliography, cite, f"{key}.sources", "citation")
        if "default" not in by_concern:
            yield f"protocols.{modality}", "needs a 'default' protocol"
    adj = kb.adjustments
    for phototype, rule in adj.phototype.items():
        for cite in rule.sources:
            yield from need(kb.bibliography, cite, f"adjustments.phototype.{phototype}", "citation")
    for i, band in enumerate([*adj.microneedling_downtime, adj.microdermabrasion_downtime]):
        for cite in band.sources:
            yield from need(kb.bibliography, cite, f"adjustments.downtime[{i}]", "citation")
    for modality, device in adj.default_device.items():
        yield from need(kb.devices, device, f"adjustments.default_device.{modality}", "device")
    for rule_id, rule in kb.contraindications.items():
        for modality in rule.effects:
            key = f"contraindications.{rule_id}.effects.{modality}"
            yield from need(kb.modalities, modality, key, "modality")
    for section in ("serums", "aftercare", "precare"):
        for rule_id, rule in getattr(kb, section).items():
            for modality in rule.modalities:
                key = f"{section}.{rule_id}.modalities"
                yield from need(kb.modalities, modality, key, "modality")
    intake_fields = Intake.model_fields
    for rule_id, rule in kb.contraindications.items():
        field = rule.condition.field
        if field and field not in intake_fields:
            yield f"contraindications.{rule_id}.condition.field", f"unknown intake field '{field}'"
    for section in ("aftercare", "precare"):
        for rule_id, rule in getattr(kb, section).items():
            if rule.when and intake_fields.get(rule.when) is None:
                yield f"{section}.{rule_id}.when", f"unknown intake field '{rule.when}'"
    yield from _lexicon_references(kb)
    for concern in kb.concerns:
        profile = kb.concerns[concern].depth_profile
        if "microneedling" in kb.concerns[concern].modalities and not any(
            profile in profiles for profiles in kb.depth_limits.values()
        ):
            yield f"concerns.{concern}.depth_profile", f"no depth limits for profile '{profile}'"


def _lexicon_references(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    """The lexicon, and the rules that read it, point at classes, areas and intake answers."""
    lex, intake_fields = kb.lexicon, Intake.model_fields
    for class_id, cls in lex.classes.items():
        for cite in cls.sources:
            if cite not in kb.bibliography:
                yield f"lexicon.classes.{class_id}.sources", f"unknown citation '{cite}'"
        for field in cls.sets:
            if field not in intake_fields:
                yield f"lexicon.classes.{class_id}.sets", f"unknown intake field '{field}'"
    kinds = {"medicines": "medicine", "conditions": "condition", "allergens": "allergen"}
    for section, kind in kinds.items():
        for entry_id, entry in getattr(lex, section).items():
            key = f"lexicon.{section}.{entry_id}"
            cls = lex.classes.get(entry.class_id)
            if cls is None:
                yield f"{key}.class", f"unknown lexicon class '{entry.class_id}'"
            elif cls.kind != kind:
                yield f"{key}.class", f"'{entry.class_id}' is a {cls.kind} class, not a {kind}"
            for field in entry.sets or {}:
                if field not in intake_fields:
                    yield f"{key}.sets", f"unknown intake field '{field}'"
    for area in lex.area_words:
        if area != "face" and area not in kb.areas:
            yield f"lexicon.area_words.{area}", f"unknown area '{area}'"
    for rule_id, rule in kb.contraindications.items():
        key = f"contraindications.{rule_id}.condition"
        for class_id in rule.condition.classes or ():
            if class_id not in lex.classes:
                yield f"{key}.classes", f"unknown lexicon class '{class_id}'"
        if rule.condition.unless_field and rule.condition.unless_field not in intake_fields:
            yield f"{key}.unless_field", f"unknown intake field '{rule.condition.unless_field}'"
    for serum_id, serum in kb.serums.items():
        for rule_id in serum.not_with:
            if rule_id not in kb.contraindications:
                yield f"serums.{serum_id}.not_with", f"unknown contraindication '{rule_id}'"
    for section in ("aftercare", "precare"):
        for rule_id, rule in getattr(kb, section).items():
            for field in rule.unless:
                if field not in intake_fields:
                    yield f"{section}.{rule_id}.unless", f"unknown intake field '{field}'"


def build_knowledge(override: str | Path | None = None) -> KnowledgeBase:
    """Read, merge and validate the knowledge base; raise KnowledgeError naming file and key."""
    data, origin = _default_sections()
    override_data: dict[str, Any] = {}
    override_path = Path(override) if override else None
    if override_path is not None:
        override_data = _read_yaml(override_path)
        for section in override_data:
            if section not in KnowledgeBase.model_fields:
                raise KnowledgeError(str(override_path), section, "is not a knowledge-base section")
        data = _merge(data, override_data)

    def blame(loc: tuple[Any, ...]) -> str:
        if override_path is not None and loc and _has_path(override_data, loc[:1]):
            # The longest prefix present in the override decides whether the clinic wrote it.
            for n in range(len(loc), 0, -1):
                if _has_path(override_data, loc[:n]):
                    return str(override_path)
        section = loc[0] if loc else None
        return str(origin.get(section, DATA_DIR))

    try:
        kb = KnowledgeBase.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        raise KnowledgeError(blame(loc), key, first["msg"]) from None
    for key, problem in _cross_references(kb):
        loc = tuple(key.split("."))
        raise KnowledgeError(blame(loc), key, problem)
    return kb


@lru_cache(maxsize=8)
def _cached(override: str | None) -> KnowledgeBase:
    return build_knowledge(override)


def load_knowledge(override: str | Path | None = None) -> KnowledgeBase:
    """The knowledge base in force: the defaults, overlaid by `override` or $DERMIS_KNOWLEDGE."""
    chosen = override or os.environ.get(ENV_VAR) or None
    return _cached(str(chosen) if chosen else None)
