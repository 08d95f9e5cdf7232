"""The screening's cautions, applied by the planner: device, tip, passes, interval, serums, visits.

A relative finding or precaution may carry a modification (`tip_cap`, `passes_max`,
`interval_min_days`, `avoid_metals`; depth caps are applied where the depth is chosen). Each
function here takes the planner's choice and returns it within every caution that covers the
area, with the finding's name and sources in the reason, so the plan says why it went lower.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from dermis.core.knowledge.schema import KnowledgeBase, Scale, Serum
from dermis.core.patient import AreaConcern
from dermis.core.screening import Screening

TIPS = ("fine", "medium", "coarse")


def _uniq(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(keys))


def nothing_to_treat(item: AreaConcern, scale: Scale) -> bool:
    """A concern graded at the scale's "none" (Lemperle 0, global 0) needs no treatment."""
    return scale.none_at is not None and item.severity == scale.none_at


def choose_device(
    modality: str, area: str, screening: Screening, kb: KnowledgeBase
) -> tuple[str, str, tuple[str, ...]] | str:
    """(device id, reason, citations) free of every metal a finding forbids, or why none is."""
    default = kb.adjustments.default_device[modality]
    banned = {m for f in screening.modifying(modality, area) for m in f.avoid_metals}
    device = kb.devices[default]
    if not banned or not banned & set(device.needle_metals):
        return default, device.name, tuple(device.sources)
    metals = " and ".join(sorted(banned & set(device.needle_metals)))
    cites = _uniq(
        c for f in screening.modifying(modality, area) if f.avoid_metals for c in f.citations
    )
    for device_id, other in kb.devices.items():
        if (
            other.modality == modality
            and other.setting == "professional"
            and other.needle_metals
            and not banned & set(other.needle_metals)
        ):
            reason = (
                f"{other.name}: the {device.name}'s needles contain {metals}, which this patient "
                f"must avoid; these are {other.needle_material}"
            )
            return device_id, reason, _uniq([*other.sources, *cites])
    return f"every professional device's needles contain a metal the patient must avoid ({metals})"


def cap_tip(
    tip: str, reason: str, citations: tuple[str, ...], area: str, screening: Screening
) -> tuple[str, str, tuple[str, ...]]:
    """The tip, lowered to the mildest cap of the cautions covering the area."""
    caps = [f for f in screening.modifying("microdermabrasion", area) if f.tip_cap]
    if not caps:
        return tip, reason, citations
    tightest = min(caps, key=lambda f: TIPS.index(f.tip_cap))
    if TIPS.index(tightest.tip_cap) >= TIPS.index(tip):
        return tip, reason, citations
    names = ", ".join(_uniq(f.name.lower() for f in caps if f.tip_cap == tightest.tip_cap))
    reason += f"; lowered to a {tightest.tip_cap} tip ({names})"
    return tightest.tip_cap, reason, _uniq([*citations, *(c for f in caps for c in f.citations)])


def passes(
    band: str, area: str, screening: Screening, kb: KnowledgeBase
) -> tuple[int, str, tuple[str, ...]] | None:
    """Passes over the area for microdermabrasion: by severity, then the cautions' limits."""
    rule = kb.adjustments.microdermabrasion_passes
    if rule is None:
        return None
    n = rule.by_band.get(band, min(rule.by_band.values()))
    reason, cites = f"{band} severity: {n} passes", list(rule.sources)
    limits = [f for f in screening.modifying("microdermabrasion", area) if f.passes_max]
    if limits:
        tightest = min(f.passes_max for f in limits)
        if tightest < n:
            names = ", ".join(_uniq(f.name.lower() for f in limits if f.passes_max == tightest))
            n = tightest
            reason += f"; at most {n} ({names})"
            cites += [c for f in limits for c in f.citations]
    return n, reason, _uniq(cites)


def interval_floor(
    interval: int,
    reason: str,
    citations: tuple[str, ...],
    modality: str,
    areas: Sequence[str],
    screening: Screening,
) -> tuple[int, str, tuple[str, ...]]:
    """The interval, raised to the longest minimum of the cautions covering the areas."""
    floors = [
        f
        for f in screening.for_modality(modality)
        if f.interval_min_days
        and f.severity.value != "absolute"
        and any(f.covers(a) for a in areas)
    ]
    if not floors:
        return interval, reason, citations
    longest = max(f.interval_min_days for f in floors)
    if longest <= interval:
        return interval, reason, citations
    names = ", ".join(_uniq(f.name.lower() for f in floors if f.interval_min_days == longest))
    reason += f"; at least {longest} days apart ({names})"
    return longest, reason, _uniq([*citations, *(c for f in floors for c in f.citations)])


def serum_allowed(serum: Serum, screening: Screening) -> bool:
    """A serum is withheld when a finding it must not be used with is present (pregnancy...)."""
    return not any(f.rule in serum.not_with for f in screening.findings)


def _label(area: str, part: int, parts: int, kb: KnowledgeBase) -> str:
    name = kb.areas[area].name.lower()
    return name if parts == 1 else f"{name} (part {part} of {parts})"


def visits(modality: str, areas: Sequence[str], kb: KnowledgeBase) -> tuple[list[list[str]], str]:
    """Split one session's areas into visits within the per-visit area (and anaesthetic) limit.

    An area larger than the limit is treated in parts on separate visits; smaller areas share a
    visit while they fit (largest first). Returns the visits and a sentence on the limit.
    """
    limit_rule = kb.adjustments.per_visit.get(modality)
    sizes = {a: kb.areas[a].size_cm2 for a in dict.fromkeys(areas) if kb.areas[a].size_cm2}
    if limit_rule is None or not sizes:
        return [[_label(a, 1, 1, kb) for a in dict.fromkeys(areas)]], ""
    limit = limit_rule.max_area_cm2
    why = f"at most {limit:g} cm2 treated per visit"
    if limit_rule.anaesthetic_max_area_cm2 and limit_rule.anaesthetic_max_area_cm2 < limit:
        limit = limit_rule.anaesthetic_max_area_cm2
        why = f"topical anaesthetic on at most {limit:g} cm2 per visit"
    pieces: list[tuple[float, str]] = []
    for area, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        parts = max(1, math.ceil(size / limit - 1e-9))
        pieces += [(size / parts, _label(area, k, parts, kb)) for k in range(1, parts + 1)]
    pieces += [(0.0, _label(a, 1, 1, kb)) for a in dict.fromkeys(areas) if a not in sizes]
    bins: list[tuple[float, list[str]]] = []
    for size, label in pieces:
        for i, (used, labels) in enumerate(bins):
            if used + size <= limit + 1e-9:
                bins[i] = (used + size, [*labels, label])
                break
        else:
            bins.append((size, [label]))
    total = sum(sizes.values())
    return [labels for _, labels in bins], f"{total:g} cm2 in all; {why}"


def split_reason(groups: list[list[str]], why: str) -> str:
    listed = "; ".join(f"visit {i}: {', '.join(g)}" for i, g in enumerate(groups, 1))
    return f"{why}, so each session is done over {len(groups)} visits ({listed})"
