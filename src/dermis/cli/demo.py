"""`dermis demo`: walk the example patients through screening, planning and aftercare."""

from __future__ import annotations

import argparse
from pathlib import Path

from dermis.cli.patient_file import read_patient_file
from dermis.core.aftercare import aftercare
from dermis.core.errors import InputError
from dermis.core.knowledge import load_knowledge
from dermis.core.planning import plan
from dermis.core.screening import screen

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _summary(path: Path, kb) -> list[str]:
    doc = read_patient_file(str(path))
    as_of = doc.as_of
    findings = screen(doc.patient, doc.intake, kb, as_of)
    lines = [
        f"== {path.name}: {doc.patient.name}, {doc.patient.age}, "
        f"Fitzpatrick {doc.patient.fitzpatrick.value}"
    ]
    for f in findings.findings:
        if f.severity.value != "precaution":
            scope = ",".join(f.areas) or "all areas"
            lines.append(
                f"   screening  {f.severity.value:<8} {f.modality:<17} {scope}: {f.action}"
            )
    if doc.assessment is None:
        return lines
    result = plan(doc.patient, doc.assessment, findings, kb)
    lines.append(f"   plan       {result.status}")
    for c in result.courses:
        lines.append(
            f"   course     {c.modality}: {c.sessions} x every {c.interval_days} d "
            f"from {c.earliest_start}"
        )
        for t in c.treatments:
            setting = f"{t.depth_mm:g} mm" if t.depth_mm is not None else f"{t.tip} tip"
            lines.append(
                f"                {t.area}/{t.concern}: {setting} "
                f"[{', '.join(t.decisions[-2].citations)}]"
            )
    for d in result.not_treated:
        lines.append(f"   not treated {d.what}: {d.reason[:110]}")
    if doc.session is not None:
        care = aftercare(doc.session, doc.patient, doc.intake, kb)
        lines.append(
            f"   aftercare  {len(care.days)} days from {care.days[0].date}; "
            f"{len(care.precare)} pre-care steps; {len(care.warnings())} warning signs"
        )
    return lines


def cmd_demo(args: argparse.Namespace) -> int:
    if not EXAMPLES.is_dir():
        raise InputError("examples", f"not found at {EXAMPLES} (run the demo from a checkout)")
    kb = load_knowledge(args.knowledge)
    print(
        f"Dermis demo - knowledge base {kb.version}: {len(kb.contraindications)} "
        f"contraindications, {len(kb.concerns)} concerns, {len(kb.areas)} areas, "
        f"{len(kb.bibliography)} sources\n"
    )
    for path in sorted(EXAMPLES.glob("*.*")):
        print("\n".join(_summary(path, kb)))
        print()
    first = sorted(EXAMPLES.glob("*.*"))[0]
    print("Try next:")
    print(f"  .venv/bin/dermis plan {first.relative_to(EXAMPLES.parent)}          # full report")
    print(f"  .venv/bin/dermis plan {first.relative_to(EXAMPLES.parent)} --json   # cited JSON")
    print("  .venv/bin/dermis aftercare examples/photoaging-fitzpatrick-v.json")
    print("  .venv/bin/dermis serve                                        # web skeleton")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="Run the example patients through the clinical core.")
    p.set_defaults(func=cmd_demo)
