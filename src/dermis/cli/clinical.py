"""`dermis screen`, `dermis plan`, `dermis aftercare` and `dermis knowledge check`."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime

from dermis.cli import report
from dermis.cli.patient_file import read_patient_file
from dermis.core.aftercare import aftercare
from dermis.core.errors import InputError
from dermis.core.knowledge import build_knowledge, load_knowledge
from dermis.core.patient import PatientFile, Session
from dermis.core.planning import plan
from dermis.core.recognition import Recognition, recognise
from dermis.core.screening import Screening, screen


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date (YYYY-MM-DD)") from None


def _datetime(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a date-time (YYYY-MM-DDTHH:MM)"
        ) from None


def _emit(args: argparse.Namespace, data: dict, text: str) -> int:
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else text)
    return 0


def _screen(args: argparse.Namespace, doc: PatientFile) -> tuple[Screening, Recognition]:
    kb = load_knowledge(args.knowledge)
    as_of = args.date or doc.as_of or date.today()
    recognition = recognise(doc.intake, kb)
    return screen(doc.patient, doc.intake, kb, as_of, recognition.facts), recognition


def cmd_screen(args: argparse.Namespace) -> int:
    doc = read_patient_file(args.file)
    result, recognition = _screen(args, doc)
    text = report.recognition_report(recognition) + report.screening_report(result)
    return _emit(args, result.to_dict() | {"recognition": recognition.to_dict()}, text)


def cmd_plan(args: argparse.Namespace) -> int:
    doc = read_patient_file(args.file)
    if doc.assessment is None:
        raise InputError("assessment", "is required to plan (concerns per area with severity)")
    kb = load_knowledge(args.knowledge)
    screening, recognition = _screen(args, doc)
    result = plan(doc.patient, doc.assessment, screening, kb)
    text = report.recognition_report(recognition) + report.plan_report(result, kb)
    return _emit(args, result.to_dict() | {"recognition": recognition.to_dict()}, text)


def cmd_aftercare(args: argparse.Namespace) -> int:
    doc = read_patient_file(args.file)
    session = doc.session
    overrides = {k: v for k, v in (("start", args.start), ("depth_mm", args.depth_mm)) if v}
    if session is None:
        if "start" not in overrides or not args.modality:
            raise InputError("session", "is required (in the file, or --start and --modality)")
        session = Session(modality=args.modality, **overrides)
    elif overrides or args.modality:
        data = session.model_dump() | overrides
        if args.modality:
            data["modality"] = args.modality
        session = Session.model_validate(data)
    kb = load_knowledge(args.knowledge)
    result = aftercare(session, doc.patient, doc.intake, kb)
    return _emit(args, result.to_dict(), report.aftercare_report(result))


def cmd_knowledge_check(args: argparse.Namespace) -> int:
    kb = build_knowledge(args.override)
    counts = {
        name: len(getattr(kb, name))
        for name in ("devices", "areas", "concerns", "contraindications", "aftercare", "precare")
    }
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    print(f"knowledge {kb.version} is valid: {summary}; {len(kb.bibliography)} sources")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    def patient_parser(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("file", metavar="FILE", help="patient file (JSON or YAML; see examples/)")
        p.add_argument("--json", action="store_true", help="print JSON instead of a report")
        p.add_argument(
            "--knowledge",
            metavar="FILE",
            default=argparse.SUPPRESS,
            help="a clinic knowledge file overriding the defaults",
        )
        return p

    p = patient_parser("screen", "Screen a patient's intake for contraindications.")
    p.add_argument("--date", type=_date, help="treatment date to screen for (default: today)")
    p.set_defaults(func=cmd_screen)

    p = patient_parser("plan", "Propose a cited treatment plan from intake and assessment.")
    p.add_argument("--date", type=_date, help="planning date (default: today)")
    p.set_defaults(func=cmd_plan)

    p = patient_parser("aftercare", "Day-by-day aftercare and pre-care for a session.")
    p.add_argument("--start", type=_datetime, help="session start, e.g. 2026-12-01T14:00")
    p.add_argument("--modality", choices=["microneedling", "microdermabrasion"])
    p.add_argument("--depth-mm", type=float, help="deepest needle depth used (microneedling)")
    p.set_defaults(func=cmd_aftercare)

    k = sub.add_parser("knowledge", help="Validate a clinic's knowledge file.")
    ksub = k.add_subparsers(dest="knowledge_command", metavar="ACTION", required=True)
    c = ksub.add_parser("check", help="validate the defaults merged with a clinic file")
    c.add_argument("override", metavar="FILE", nargs="?", help="the clinic's knowledge file")
    c.set_defaults(func=cmd_knowledge_check)
