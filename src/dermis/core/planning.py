"""Protocol planner: assessment + screening -> a treatment plan where every choice says why.

Deterministic: the same patient, assessment, screening and knowledge base give the same plan.
Limits come from the knowledge base; this module decides where inside them to go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from dermis.core import plan_cautions as cautions
from dermis.core.errors import InputError
from dermis.core.grading import check_grade
from dermis.core.knowledge.schema import (
    DowntimeBand,
    IntRange,
    KnowledgeBase,
    Protocol,
)
from dermis.core.patient import AreaConcern, Assessment, Patient
from dermis.core.plan_records import Course, Decision, Plan, Treatment
from dermis.core.plan_settings import (  # re-exported: adjust and the web import them from here
    EPS,
    needle_depth,
    tip_for,
)
from dermis.core.plan_settings import TIP_STRENGTH as TIP_STRENGTH
from dermis.core.plan_settings import allowed_tips as allowed_tips
from dermis.core.plan_settings import device_steps as device_steps
from dermis.core.screening import Finding, Screening


def _position(value: float, scale_min: float, scale_max: float, higher_is_worse: bool) -> float:
    span = scale_max - scale_min
    pos = (value - scale_min) / span if span else 1.0
    return pos if higher_is_worse else 1.0 - pos


def _band(position: float) -> str:
    if position <= 1 / 3 + EPS:
        return "mild"
    if position <= 2 / 3 + EPS:
        return "moderate"
    return "severe"


def _fmt(x: float) -> str:
    return f"{x:g}"


def _check_concern(i: int, item: AreaConcern, kb: KnowledgeBase) -> None:
    where = f"assessment.concerns[{i}]"
    if item.area not in kb.areas:
        raise InputError(
            f"{where}.area", f"unknown area '{item.area}' (known: {', '.join(kb.areas)})"
        )
    if item.concern not in kb.concerns:
        known = ", ".join(kb.concerns)
        raise InputError(f"{where}.concern", f"unknown concern '{item.concern}' (known: {known})")
    check_grade(kb, item.concern, item.severity, f"{where}.severity")


def protocol_for(kb: KnowledgeBase, modality: str, concern: str) -> Protocol:
    by_concern = kb.protocols[modality]
    return by_concern.get(concern, by_concern["default"])


def _sessions(protocol: Protocol, position: float, band: str) -> Decision:
    n = protocol.sessions.min + round(position * (protocol.sessions.max - protocol.sessions.min))
    reason = (
        f"{band} severity: {n} of the usual {protocol.sessions.min}-{protocol.sessions.max} "
        "sessions"
    )
    return Decision("sessions", n, reason, tuple(protocol.sources))


def interval_range(
    protocols: Sequence[Protocol], field: str = "interval_days"
) -> tuple[int, int, bool]:
    """(low, high, overlaps): the days between sessions that suit every protocol at once.

    When the ranges do not overlap, every minimum still holds (healing needs it), so the range
    shrinks to the longest minimum: (low, low, False).
    """
    ranges: list[IntRange] = [getattr(p, field) for p in protocols]
    lo, hi = max(r.min for r in ranges), min(r.max for r in ranges)
    return (lo, hi, True) if lo <= hi else (lo, lo, False)


def course_protocols(course: Course, kb: KnowledgeBase) -> list[Protocol]:
    """The protocols of a course's concerns (the modality's default for a course without any)."""
    concerns = dict.fromkeys(t.concern for t in course.treatments) or {"default": None}
    return [protocol_for(kb, course.modality, c) for c in concerns]


def course_interval_range(course: Course, kb: KnowledgeBase) -> tuple[int, int]:
    """(min, max) days between two sessions of the course, from its concerns' protocols."""
    lo, hi, _ = interval_range(course_protocols(course, kb))
    return lo, hi


def _plan_treatment(
    i: int,
    item: AreaConcern,
    modality: str,
    patient: Patient,
    assessment: Assessment,
    screening: Screening,
    kb: KnowledgeBase,
) -> Treatment | str:
    concern = kb.concerns[item.concern]
    scale = kb.scales[concern.scale]
    # On a scale whose lowest grade means "none", the mildest treatable grade is the next one up.
    treatable_from = (
        scale.none_at == scale.min and scale.higher_is_worse and scale.max > scale.min + 1
    )
    low = scale.min + 1 if treatable_from else scale.min
    position = max(0.0, _position(item.severity, low, scale.max, scale.higher_is_worse))
    band = _band(position)
    suit = concern.modalities[modality]
    device = cautions.choose_device(modality, item.area, screening, kb)
    if isinstance(device, str):
        return device
    device_id = device[0]
    decisions = [
        Decision("modality", modality, suit.reason, tuple(suit.sources)),
        Decision("device", *device),
    ]
    depth = tip = None
    if modality == "microneedling":
        chosen = needle_depth(item, position, band, patient, assessment, screening, kb, device_id)
        if isinstance(chosen, str):
            return chosen
        depth = chosen[0]
        decisions.append(Decision("depth_mm", *chosen))
    else:
        tip, *why = cautions.cap_tip(*tip_for(band, patient, kb, device_id), item.area, screening)
        decisions.append(Decision("tip", tip, *why))
        passes = cautions.passes(band, item.area, screening, kb)
        if passes is not None:
            decisions.append(Decision("passes", *passes))
    sessions = _sessions(protocol_for(kb, modality, item.concern), position, band)
    decisions.append(sessions)
    return Treatment(
        item.area,
        item.concern,
        item.severity,
        band,
        device_id,
        depth,
        tip,
        sessions.value,
        tuple(decisions),
    )


def needling_downtime(kb: KnowledgeBase, deepest_mm: float) -> DowntimeBand:
    """The downtime band for a microneedling session whose deepest setting is `deepest_mm`."""
    bands = kb.adjustments.microneedling_downtime
    return next((b for b in bands if deepest_mm <= b.up_to_depth_mm + EPS), bands[-1])


def _course(
    modality: str,
    treatments: list[Treatment],
    start: date,
    start_reasons: list[Finding],
    patient: Patient,
    screening: Screening,
    kb: KnowledgeBase,
    as_of: date,
) -> Course:
    protocols = [protocol_for(kb, modality, t.concern) for t in treatments]
    cites = tuple(dict.fromkeys(c for p in protocols for c in p.sources))
    adj = kb.adjustments.phototype[patient.fitzpatrick.value]
    decisions: list[Decision] = []

    n = max(t.sessions for t in treatments)
    decisions.append(
        Decision(
            "sessions",
            n,
            "the most sessions any treatment in the course needs "
            "(an area may stop earlier, see each treatment)",
            cites,
        )
    )

    lo, hi, ok = interval_range(protocols)
    interval = round(lo + adj.interval_position * (hi - lo))
    reason = f"usual interval {lo}-{hi} days"
    icites = cites
    if adj.interval_position > 0:
        reason += (
            f"; Fitzpatrick {patient.fitzpatrick.value}: toward the longer end so "
            "inflammation settles fully between sessions"
        )
        icites = tuple(dict.fromkeys([*cites, *adj.sources]))
    if not ok:
        reason += (
            "; the treatments' usual intervals do not overlap, so the shortest safe one is used"
        )
    areas = list(dict.fromkeys(t.area for t in treatments))
    interval, reason, icites = cautions.interval_floor(
        interval, reason, icites, modality, areas, screening
    )
    decisions.append(Decision("interval_days", interval, reason, icites))

    mlo, mhi, _ = interval_range(protocols, "maintenance_interval_days")
    decisions.append(
        Decision(
            "maintenance_interval_days",
            {"min": mlo, "max": mhi},
            f"maintenance every {mlo}-{mhi} days after the series; the outcome forecast can "
            "time it for this patient",
            cites,
        )
    )

    minutes = {
        "min": min(p.session_minutes.min for p in protocols),
        "max": max(p.session_minutes.max for p in protocols),
    }
    decisions.append(Decision("session_minutes", minutes, "usual session length", cites))
    groups, why = cautions.visits(modality, areas, kb)
    if len(groups) > 1:
        limit = kb.adjustments.per_visit[modality]
        decisions.append(
            Decision(
                "visits_per_session",
                groups,
                cautions.split_reason(groups, why),
                tuple(limit.sources),
            )
        )

    if modality == "microneedling":
        deepest = max(t.depth_mm or 0 for t in treatments)
        band = needling_downtime(kb, deepest)
        reason = f"deepest setting {_fmt(deepest)} mm"
    else:
        band = kb.adjustments.microdermabrasion_downtime
        reason = "superficial exfoliation: redness for hours"
    decisions.append(
        Decision(
            "downtime_days",
            {"min": band.days.min, "max": band.days.max},
            reason,
            tuple(band.sources),
        )
    )

    if start > as_of:
        names = "; ".join(f"{f.name}: {f.action}" for f in start_reasons)
        start_cites = tuple(dict.fromkeys(c for f in start_reasons for c in f.citations))
        decisions.append(Decision("earliest_start", start.isoformat(), names, start_cites))

    concerns = {t.concern for t in treatments}
    serums = tuple(
        Decision(
            "serum",
            serum_id,
            f"{s.name} ({s.when}): {s.use}" + (f" Caution: {s.caution}" if s.caution else ""),
            tuple(s.sources),
        )
        for serum_id, s in kb.serums.items()
        if modality in s.modalities and (s.concerns == "all" or concerns & set(s.concerns))
        if cautions.serum_allowed(s, screening)
    )
    precautions = tuple(
        f
        for f in screening.for_modality(modality)
        if f.severity.value != "absolute" and any(f.covers(a) for a in areas)
    )
    return Course(modality, start, tuple(treatments), tuple(decisions), serums, precautions)


def _deferred(treatment: Treatment, blocks: list[Finding]) -> Treatment:
    start = treatment.earliest_start
    assert start is not None
    why = "; ".join(f"{f.name}: {f.action}" for f in blocks)
    cites = tuple(dict.fromkeys(c for f in blocks for c in f.citations))
    decision = Decision("earliest_start", start.isoformat(), f"this area only: {why}", cites)
    return replace(treatment, decisions=(*treatment.decisions, decision))


def plan(patient: Patient, assessment: Assessment, screening: Screening, kb: KnowledgeBase) -> Plan:
    """Build the treatment plan. Raises InputError for unknown areas, concerns or severities."""
    for i, item in enumerate(assessment.concerns):
        _check_concern(i, item, kb)
    as_of = screening.as_of
    chosen: dict[str, list[tuple[Treatment, date, list[Finding]]]] = {}
    not_treated: list[Decision] = []
    for i, item in enumerate(assessment.concerns):
        concern = kb.concerns[item.concern]
        scale = kb.scales[concern.scale]
        if cautions.nothing_to_treat(item, scale):
            label = scale.labels.get(f"{item.severity:g}", "none")
            reason = f"graded {item.severity:g} ({label}) on the {scale.name}: nothing to treat"
            not_treated.append(
                Decision(f"{item.area}/{item.concern}", None, reason, tuple(scale.sources))
            )
            continue
        candidates = sorted(
            (m for m, s in concern.modalities.items() if s.suitable),
            key=lambda m: (
                m != assessment.preferred_modality,
                -concern.modalities[m].preference,
                m,
            ),
        )
        refusals: list[str] = []
        cites: list[str] = []
        for modality in candidates:
            blocks = screening.blocking(modality, item.area)
            permanent = [f for f in blocks if f.until is None]
            if permanent:
                refusals += [f"{modality}: {f.name.lower()} - {f.action}" for f in permanent]
                cites += [c for f in permanent for c in f.citations]
                continue
            result = _plan_treatment(i, item, modality, patient, assessment, screening, kb)
            if isinstance(result, str):
                refusals.append(f"{modality}: {result}")
                cites += ["dermis_default"]
                continue
            start = max([as_of, *(f.until for f in blocks)])
            result = replace(result, earliest_start=start)
            chosen.setdefault(modality, []).append((result, start, list(blocks)))
            break
        else:
            for m, s in concern.modalities.items():
                if not s.suitable:
                    refusals.append(f"{m}: {s.reason}")
                    cites += s.sources
            not_treated.append(
                Decision(
                    f"{item.area}/{item.concern}",
                    None,
                    "no safe option: " + "; ".join(refusals),
                    tuple(dict.fromkeys(cites)),
                )
            )

    courses = []
    for modality in sorted(chosen, key=lambda m: list(kb.modalities).index(m)):
        entries = chosen[modality]
        # The course starts when its first area may; an area-scoped deferral (filler in the
        # lips) moves only its own treatment, which says so.
        start = min(s for _, s, _ in entries)
        reasons = list(dict.fromkeys(f for _, s, fs in entries if s == start for f in fs))
        treatments = [t if s == start else _deferred(t, fs) for t, s, fs in entries]
        courses.append(_course(modality, treatments, start, reasons, patient, screening, kb, as_of))
    status = "not_safe" if not courses else ("partial" if not_treated else "ok")
    notes = (
        "A planning aid for a trained practitioner: check every choice against the patient "
        "in front of you.",
    )
    return Plan(status, as_of, kb.version, tuple(courses), tuple(not_treated), screening, notes)
