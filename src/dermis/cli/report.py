"""Plain-text reports for the terminal. The same data goes out as JSON with --json."""

from __future__ import annotations

import textwrap

from dermis.core.aftercare import Aftercare
from dermis.core.knowledge.schema import KnowledgeBase
from dermis.core.planning import Decision, Plan
from dermis.core.recognition import Recognition
from dermis.core.screening import Screening

WIDTH = 96
DISCLAIMER = (
    "Decision support for a trained practitioner: it explains and cites; it does not replace "
    "clinical judgement and promises no result."
)


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def _cites(citations: tuple[str, ...] | list[str]) -> str:
    return f"[{', '.join(citations)}]" if citations else ""


def recognition_report(recognition: Recognition) -> str:
    """What the free text was read as, and what is left for the practitioner (empty if none)."""
    lines = []
    if recognition.facts:
        lines.append("Read from the free text (confirm or correct each before accepting a plan):")
        for fact in recognition.facts:
            where = f" [{', '.join(fact.areas)}]" if fact.areas else ""
            lines.append(_wrap(f"{fact.label}{where} - {fact.recognised_from}", "  "))
    for item in recognition.unrecognised:
        lines.append(_wrap(f"'{item.source_text}' ({item.field}): {item.note}", "  "))
    return "\n".join(lines) + "\n\n" if lines else ""


def screening_report(screening: Screening) -> str:
    lines = [f"Screening for treatment on {screening.as_of.isoformat()}"]
    if screening.clear:
        lines.append("  No contraindication found in the intake.")
    for f in screening.findings:
        scope = ", ".join(f.areas) if f.areas else "all areas"
        lines.append(f"  {f.severity.value.upper():<10} {f.modality} ({scope}): {f.name}")
        lines.append(_wrap(f"Action: {f.action}", "      "))
        lines.append(_wrap(f"Why: {f.reason} {_cites(f.citations)}", "      "))
        if f.evidence:
            lines.append(_wrap(f"Because: {'; '.join(f.evidence)}", "      "))
    return "\n".join(lines)


def _value(value: object) -> str:
    if isinstance(value, dict) and set(value) == {"min", "max"}:
        return f"{value['min']}-{value['max']}"
    return str(value)


def _decision(d: Decision, indent: str = "      ") -> str:
    return _wrap(f"{d.what}: {_value(d.value)} - {d.reason} {_cites(d.citations)}", indent)


def plan_report(plan: Plan, kb: KnowledgeBase) -> str:
    lines = [
        f"Treatment plan ({plan.status}) as of {plan.as_of}, knowledge {plan.knowledge_version}"
    ]
    if plan.status == "not_safe":
        lines.append("  Nothing can be planned safely now.")
    for c in plan.courses:
        lines.append("")
        lines.append(
            f"  {kb.modalities[c.modality].name}: {c.sessions} sessions every "
            f"{c.interval_days} days, starting {c.earliest_start}"
        )
        for d in c.decisions:
            lines.append(_decision(d, "    "))
        for t in c.treatments:
            setting = f"{t.depth_mm:g} mm" if t.depth_mm is not None else f"{t.tip} tip"
            lines.append(
                f"    - {kb.areas[t.area].name} / {kb.concerns[t.concern].name}: {setting}, "
                f"{t.sessions} sessions ({t.band})"
            )
            for d in t.decisions:
                lines.append(_decision(d))
        if c.serums:
            lines.append("    Serums:")
            lines += [_decision(d) for d in c.serums]
        if c.precautions:
            lines.append("    Precautions:")
            lines += [
                _wrap(f"{f.name}: {f.action} {_cites(f.citations)}", "      ")
                for f in c.precautions
            ]
    if plan.not_treated:
        lines.append("")
        lines.append("  Not treated:")
        lines += [_wrap(f"{d.what}: {d.reason} {_cites(d.citations)}") for d in plan.not_treated]
    lines += ["", _wrap(DISCLAIMER, "  ")]
    return "\n".join(lines)


def aftercare_report(care: Aftercare) -> str:
    depth = f" at {care.depth_mm:g} mm" if care.depth_mm is not None else ""
    lines = [
        f"Aftercare for {care.modality}{depth}, session ending {care.session_end:%Y-%m-%d %H:%M}"
    ]
    if care.precare:
        lines.append("  Before the session:")
        for p in care.precare:
            when = "on the day" if p.days_before == 0 else f"from {p.from_date} ({p.days_before} d)"
            lines.append(_wrap(f"{when}: {p.text} {_cites(p.citations)}"))
    for day in care.days:
        lines.append(f"  Day {day.number} - {day.date:%a %d %b %Y}")
        for e in day.entries:
            note = f" ({e.note})" if e.note else ""
            lines.append(_wrap(f"{e.kind:<6} {e.text}{note}"))
    lines.append("  Call the clinic if:")
    lines += [_wrap(f"{w.text} {_cites(w.citations)}") for w in care.warnings()]
    return "\n".join(lines)
