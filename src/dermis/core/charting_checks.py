"""Checks on a charted session: is each area's depth or tip inside the knowledge base's limits?

Pure: the web form, the REST API and a CLI get the same answer. An error means the record must
not be saved as it is (a depth above the area's maximum or outside what the device can do); a
warning is shown with the record (deeper than planned, a tip stronger than the phototype allows).
Every issue names the field it is about and the sources of the rule behind it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from dermis.core.knowledge.schema import Device, KnowledgeBase, Thickness

TIP_STRENGTH = ("fine", "medium", "coarse")
EPS = 1e-9


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class ChartedArea:
    """One treated area as charted: depth (microneedling) or tip (microdermabrasion), passes."""

    area: str
    depth_mm: float | None = None
    tip: str | None = None
    passes: int = 1


@dataclass(frozen=True)
class DepthCap:
    """A depth cap from screening (a relative contraindication), with its reason and sources."""

    depth_mm: float
    reason: str
    citations: tuple[str, ...]


@dataclass(frozen=True)
class AreaContext:
    """What the patient's plan and screening say about an area; every part is optional."""

    depth_profiles: tuple[str, ...] = ()  # of the concerns planned on this area
    thickness: str | None = None  # from the assessment
    planned_depth_mm: float | None = None
    planned_tip: str | None = None
    depth_caps: tuple[DepthCap, ...] = ()


@dataclass(frozen=True)
class Issue:
    level: Level
    area: str | None  # None: about the session (the device), not one area
    field: str  # "device", "area", "depth_mm", "tip" or "passes"
    message: str
    citations: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "level": self.level.value,
            "area": self.area,
            "field": self.field,
            "message": self.message,
            "citations": list(self.citations),
        }


def _fmt(x: float) -> str:
    return f"{x:g}"


def _error(area: str | None, field: str, message: str, cites=()) -> Issue:
    return Issue(Level.ERROR, area, field, message, tuple(dict.fromkeys(cites)))


def _warning(area: str | None, field: str, message: str, cites=()) -> Issue:
    return Issue(Level.WARNING, area, field, message, tuple(dict.fromkeys(cites)))


def check_device(kb: KnowledgeBase, modality: str, device_id: str) -> list[Issue]:
    device = kb.devices.get(device_id)
    if device is None or device.modality != modality:
        known = ", ".join(d for d, dev in kb.devices.items() if dev.modality == modality)
        return [_error(None, "device", f"'{device_id}' is not a {modality} device ({known})")]
    return []


def _area_ceiling(
    kb: KnowledgeBase, area: str, context: AreaContext
) -> tuple[float, str, tuple[str, ...]] | None:
    """The deepest the knowledge base allows on the area (for the plan's profiles, if known)."""
    by_profile = kb.depth_limits.get(area, {})
    profiles = [p for p in context.depth_profiles if p in by_profile] or list(by_profile)
    if not profiles:
        return None
    thickness = [Thickness(context.thickness)] if context.thickness else list(Thickness)
    best = max(
        ((by_profile[p].for_thickness(t).max, p, t) for p in profiles for t in thickness),
        key=lambda x: x[0],
    )
    limit, profile, skin = best
    what = f"{profile.replace('_', ' ')} treatment, {skin.value} skin"
    return limit, what, tuple(by_profile[profile].sources)


def _device_depth(area: str, depth: float, device: Device) -> list[Issue]:
    rng = device.depth_mm
    if rng is None:
        return [_error(area, "depth_mm", f"{device.name} has no needle depth")]
    cites = device.sources
    if not rng.min - EPS <= depth <= rng.max + EPS:
        return [
            _error(
                area,
                "depth_mm",
                f"{_fmt(depth)} mm is outside the {device.name}'s range "
                f"({_fmt(rng.min)}-{_fmt(rng.max)} mm)",
                cites,
            )
        ]
    if device.needle_lengths_mm and not any(
        abs(depth - n) < 1e-6 for n in device.needle_lengths_mm
    ):
        lengths = ", ".join(_fmt(n) for n in sorted(device.needle_lengths_mm))
        return [
            _error(
                area,
                "depth_mm",
                f"{_fmt(depth)} mm is not a needle length of the {device.name} ({lengths} mm)",
                cites,
            )
        ]
    step = device.depth_step_mm
    if step and abs(round((depth - rng.min) / step) * step - (depth - rng.min)) > 1e-6:
        return [
            _warning(
                area,
                "depth_mm",
                f"the {device.name} is set in {_fmt(step)} mm steps from {_fmt(rng.min)} mm; "
                f"{_fmt(depth)} mm is between two settings",
                cites,
            )
        ]
    return []


def _needle_checks(
    kb: KnowledgeBase, charted: ChartedArea, device: Device, context: AreaContext
) -> list[Issue]:
    area, depth = charted.area, charted.depth_mm
    if depth is None:
        return [_error(area, "depth_mm", "is required for a microneedled area")]
    if not math.isfinite(depth) or depth <= 0:
        return [_error(area, "depth_mm", "must be a depth above 0 mm")]
    issues = _device_depth(area, depth, device)
    name = kb.areas[area].name
    ceiling = _area_ceiling(kb, area, context)
    if ceiling is None:
        issues.append(
            _error(area, "depth_mm", f"the knowledge base has no needle-depth range for the {name}")
        )
        return issues
    limit, what, cites = ceiling
    if depth > limit + EPS:
        issues.append(
            _error(
                area,
                "depth_mm",
                f"{_fmt(depth)} mm is above the maximum for the {name} ({_fmt(limit)} mm, {what})",
                cites,
            )
        )
    elif len(context.depth_profiles) == 1 and context.thickness:
        profile = context.depth_profiles[0]
        limits = kb.depth_limits[area].get(profile)
        low = limits.for_thickness(context.thickness).min if limits else None
        if low is not None and depth < low - EPS:
            issues.append(
                _warning(
                    area,
                    "depth_mm",
                    f"{_fmt(depth)} mm is below the usual range for the {name} "
                    f"(from {_fmt(low)} mm, {what}): expect less effect",
                    limits.sources,
                )
            )
    for cap in context.depth_caps:
        if depth > cap.depth_mm + EPS:
            issues.append(
                _error(
                    area,
                    "depth_mm",
                    f"{_fmt(depth)} mm is above the {_fmt(cap.depth_mm)} mm cap from screening "
                    f"({cap.reason})",
                    cap.citations,
                )
            )
    planned = context.planned_depth_mm
    if planned is not None and depth > planned + EPS and not errors(issues):
        issues.append(
            _warning(
                area, "depth_mm", f"{_fmt(depth)} mm is deeper than planned ({_fmt(planned)} mm)"
            )
        )
    return issues


def _tip_checks(
    kb: KnowledgeBase,
    charted: ChartedArea,
    device: Device,
    context: AreaContext,
    phototype: str | None,
) -> list[Issue]:
    area, tip = charted.area, charted.tip or None
    if not device.tips:
        if tip:
            return [_error(area, "tip", f"the {device.name} takes no tip", device.sources)]
        return []
    if tip is None:
        return [_error(area, "tip", f"is required with the {device.name}")]
    if tip not in device.tips:
        known = ", ".join(t for t in TIP_STRENGTH if t in device.tips)
        return [
            _error(area, "tip", f"the {device.name} has no {tip} tip ({known})", device.sources)
        ]
    issues: list[Issue] = []
    if phototype in kb.adjustments.phototype:
        adj = kb.adjustments.phototype[phototype]
        cap = adj.microdermabrasion_tip
        if TIP_STRENGTH.index(tip) > TIP_STRENGTH.index(cap):
            issues.append(
                _warning(
                    area,
                    "tip",
                    f"a {tip} tip is stronger than Fitzpatrick {phototype} allows ({cap} at most, "
                    "PIH risk)",
                    adj.sources,
                )
            )
    planned = context.planned_tip
    if planned in TIP_STRENGTH and TIP_STRENGTH.index(tip) > TIP_STRENGTH.index(planned):
        issues.append(_warning(area, "tip", f"a {tip} tip is stronger than planned ({planned})"))
    return issues


def check_area(
    kb: KnowledgeBase,
    modality: str,
    device_id: str,
    charted: ChartedArea,
    context: AreaContext | None = None,
    phototype: str | None = None,
) -> list[Issue]:
    """Errors and warnings for one charted area (the device is assumed valid for the modality)."""
    context = context or AreaContext()
    area = charted.area
    if area not in kb.areas:
        return [_error(area, "area", f"unknown area '{area}' (known: {', '.join(kb.areas)})")]
    issues: list[Issue] = []
    if charted.passes < 1:
        issues.append(_error(area, "passes", "must be at least 1"))
    device = kb.devices[device_id]
    if modality == "microneedling":
        if charted.tip:
            issues.append(_error(area, "tip", "applies to microdermabrasion, not microneedling"))
        return issues + _needle_checks(kb, charted, device, context)
    if charted.depth_mm is not None:
        issues.append(_error(area, "depth_mm", "applies to microneedling, not microdermabrasion"))
    return issues + _tip_checks(kb, charted, device, context, phototype)


def check_session(
    kb: KnowledgeBase,
    modality: str,
    device_id: str,
    areas: Sequence[ChartedArea],
    contexts: Mapping[str, AreaContext] | None = None,
    phototype: str | None = None,
) -> list[Issue]:
    """All issues of a charted session: the device first, then each area in the order given."""
    if modality not in kb.modalities:
        known = ", ".join(kb.modalities)
        return [_error(None, "modality", f"unknown modality '{modality}' (known: {known})")]
    issues = check_device(kb, modality, device_id)
    if issues:
        return issues
    contexts = contexts or {}
    seen: set[str] = set()
    for charted in areas:
        if charted.area in seen:
            issues.append(_error(charted.area, "area", "is charted twice"))
            continue
        seen.add(charted.area)
        issues += check_area(
            kb, modality, device_id, charted, contexts.get(charted.area), phototype
        )
    return issues


def errors(issues: Sequence[Issue]) -> list[Issue]:
    return [i for i in issues if i.level is Level.ERROR]


def warnings(issues: Sequence[Issue]) -> list[Issue]:
    return [i for i in issues if i.level is Level.WARNING]
