"""Settings inside the limits: needle depth and microdermabrasion tip for one treatment.

Split from planning.py; the planner calls these and re-exports the public ones.
"""

from __future__ import annotations

import math

from dermis.core.knowledge.schema import Device, KnowledgeBase, Range, Thickness
from dermis.core.patient import AreaConcern, Assessment, Patient
from dermis.core.screening import Screening

TIP_STRENGTH = ("fine", "medium", "coarse")
EPS = 1e-9


def _fmt(x: float) -> str:
    return f"{x:g}"


def device_steps(device: Device, lo: float, hi: float) -> list[float]:
    """The depths the device can be set to, between lo and hi."""
    if device.needle_lengths_mm:
        return [d for d in sorted(device.needle_lengths_mm) if lo - EPS <= d <= hi + EPS]
    step, start = device.depth_step_mm, device.depth_mm.min  # both guaranteed by the schema
    n = math.floor((device.depth_mm.max - start) / step + EPS)
    return [
        round(start + k * step, 4) for k in range(n + 1) if lo - EPS <= start + k * step <= hi + EPS
    ]


def needle_depth(
    item: AreaConcern,
    position: float,
    band: str,
    patient: Patient,
    assessment: Assessment,
    screening: Screening,
    kb: KnowledgeBase,
    device_id: str,
) -> tuple[float, str, tuple[str, ...]] | str:
    """(depth, reason, citations), or why microneedling cannot be planned here."""
    concern = kb.concerns[item.concern]
    limits = kb.depth_limits.get(item.area, {}).get(concern.depth_profile)
    if limits is None:
        return (
            f"the knowledge base has no needle-depth range for {concern.depth_profile} "
            f"treatment on the {kb.areas[item.area].name.lower()}"
        )
    thickness = Thickness(assessment.skin_thickness)
    rng: Range = limits.for_thickness(thickness)
    adj = kb.adjustments.phototype[patient.fitzpatrick.value]
    device = kb.devices[device_id]
    assert device.depth_mm is not None
    reach = position * adj.depth_position_factor
    target = rng.min + reach * (rng.max - rng.min)
    ceiling = min(rng.max, device.depth_mm.max)
    reason = (
        f"{kb.areas[item.area].name}, {concern.name.lower()}, {thickness.value} skin: range "
        f"{_fmt(rng.min)}-{_fmt(rng.max)} mm; {band} severity ({_fmt(item.severity)} on the "
        f"{kb.scales[concern.scale].name}) puts it {position:.0%} into the range"
    )
    cites: list[str] = list(limits.sources)
    if adj.depth_position_factor < 1:
        reason += (
            f"; Fitzpatrick {patient.fitzpatrick.value} limits that to "
            f"{adj.depth_position_factor:.0%} of the way (PIH risk)"
        )
        cites += adj.sources
    caps = [f for f in screening.modifying("microneedling", item.area) if f.depth_cap_mm]
    if caps:
        cap = min(caps, key=lambda f: f.depth_cap_mm)
        if cap.depth_cap_mm < target:
            target = cap.depth_cap_mm
            reason += f"; capped at {_fmt(cap.depth_cap_mm)} mm ({cap.name.lower()})"
            cites += cap.citations
        ceiling = min(ceiling, cap.depth_cap_mm)
    steps = device_steps(device, device.depth_mm.min, ceiling)
    if not steps:
        return f"{device.name} cannot be set at or below {_fmt(ceiling)} mm"
    depth = max([s for s in steps if s <= target + EPS] or [steps[0]])
    reason += f"; {device.name} setting {_fmt(depth)} mm"
    return depth, reason, tuple(dict.fromkeys(cites))


def allowed_tips(patient: Patient, kb: KnowledgeBase, device_id: str) -> list[str]:
    """The device's tips, mildest first, up to the strongest the patient's phototype allows."""
    cap = kb.adjustments.phototype[patient.fitzpatrick.value].microdermabrasion_tip
    tips = kb.devices[device_id].tips or {}
    return [
        t for t in TIP_STRENGTH if t in tips and TIP_STRENGTH.index(t) <= TIP_STRENGTH.index(cap)
    ]


def tip_for(
    band: str, patient: Patient, kb: KnowledgeBase, device_id: str
) -> tuple[str, str, tuple[str, ...]]:
    """(tip, reason, citations): by severity, capped by the phototype."""
    adj = kb.adjustments
    wanted = adj.default_tip.get(band, "medium")
    cap = adj.phototype[patient.fitzpatrick.value].microdermabrasion_tip
    allowed = allowed_tips(patient, kb, device_id)
    chosen = max(
        (t for t in allowed if TIP_STRENGTH.index(t) <= TIP_STRENGTH.index(wanted)),
        key=TIP_STRENGTH.index,
        default=allowed[0] if allowed else wanted,
    )
    reason = f"{band} severity calls for a {wanted} tip (only a coarse tip raised procollagen)"
    cites = ["karimipour2009"]
    if TIP_STRENGTH.index(cap) < TIP_STRENGTH.index(wanted):
        reason += f"; Fitzpatrick {patient.fitzpatrick.value} allows at most {cap} (PIH risk)"
        cites += adj.phototype[patient.fitzpatrick.value].sources
    return chosen, reason, tuple(dict.fromkeys(cites))
