"""`dermis calibration-report`: where the clinic's follow-up grades fell in their forecasts.

From a records file, a simulated clinic, or (`--clinic SLUG`) the web app's database: the same
selector as the clinic's calibration page, with the clinic's active parameter set. Django is
imported only for `--clinic`, so the other sources start without it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import date
from pathlib import Path

from dermis.core.errors import InputError
from dermis.core.outcome.clinic_calibration import calibration_report, plot_calibration
from dermis.core.outcome.clinic_records import load_records, synthetic_clinic
from dermis.core.outcome.clinic_refit import refit_parameters
from dermis.core.outcome.parameters import load_parameters


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "calibration-report",
        help="where follow-up grades fell in the forecast band made before them",
        description="For every follow-up grade, where it fell in the p10-p90 band of the forecast "
        "made before it (a calibrated model: 80 %% inside, 10 %% above, 10 %% below), by concern "
        "and modality. Optionally refit the population's response to the clinic's grades.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--records", metavar="FILE", help="follow-up records (JSON)")
    source.add_argument(
        "--synthetic", type=int, metavar="N", help="a simulated clinic of N patients instead"
    )
    source.add_argument(
        "--clinic",
        metavar="SLUG",
        help="the follow-ups in the web app's database of the clinic with this slug, against the "
        "clinic's active parameter set (refit and revert it on its calibration page or the API)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (and of --synthetic)")
    p.add_argument(
        "--parameters", metavar="FILE", help="the parameter set to check (default: packaged)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE", help="draw the report to a .png or .svg file")
    p.add_argument(
        "--refit",
        metavar="FILE",
        help="also refit the response to these grades and write the new parameter set (JSON)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.clinic is not None:
        return run_clinic(args)
    if args.synthetic is not None:
        if not 1 <= args.synthetic <= 100_000:
            raise InputError("--synthetic", f"must be between 1 and 100000, got {args.synthetic}")
        records = synthetic_clinic(args.synthetic, seed=args.seed)
    else:
        records = load_records(args.records)
    params = load_parameters(args.parameters) if args.parameters else None
    report = calibration_report(records, params, seed=args.seed)
    if args.plot:
        plot_calibration(report, args.plot)
    refit = None
    if args.refit:
        if not report.refit_allowed:
            raise InputError("--refit", f"not allowed yet: {report.refit_blocker}")
        refit = refit_parameters(records, params, date.today(), seed=args.seed)
        try:
            Path(args.refit).write_text(
                json.dumps(refit.parameters.to_dict(), indent=1), encoding="utf-8"
            )
        except OSError as exc:
            raise InputError("--refit", f"cannot write {args.refit}: {exc.strerror}") from None
    if args.json:
        data = report.to_dict()
        if refit is not None:
            result = refit.to_dict()
            del result["parameter_set"]
            data["refit"]["result"] = result
        print(json.dumps(data))
        return 0
    print(report.table())
    if refit is not None:
        print(f"\nrefitted parameter set {refit.parameters.version} written to {args.refit}")
        for s in refit.shifts:
            detail = (
                f"x{s.factor:.2f} (clinic alone x{math.exp(s.estimate):.2f}, "
                f"se {s.standard_error:.2f})"
                if s.refitted
                else f"unchanged ({s.reason})"
            )
            print(f"  {s.group:22} {s.follow_ups:>6} grades  {detail}")
    return 0


def run_clinic(args: argparse.Namespace) -> int:
    """The report over a clinic's own records (the web app's database)."""
    from dermis.cli.web import _setup_django

    if args.refit or args.parameters:
        option = "--refit" if args.refit else "--parameters"
        raise InputError(
            option,
            "not with --clinic: a clinic's parameter set is refitted, reverted and chosen by its "
            "admin on the calibration page or the API",
        )
    if not _setup_django():
        return 2
    from dermis.web.clinic.models import Clinic
    from dermis.web.clinic.outcomes import evidence

    clinic = Clinic.objects.filter(slug=args.clinic).first()
    if clinic is None:
        raise InputError("--clinic", f"no clinic with the slug {args.clinic!r}")
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    progress(f"reading the follow-up grades of {clinic.name}")
    result = evidence.clinic_report(clinic, progress=progress)
    if result.report is None:
        raise InputError("--clinic", f"{clinic.name} has no usable follow-up grades yet")
    progress("done")
    # The command line acts as the clinic's own process; the trail says the report was read.
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.audit import Action, record

    record(Actor.system(clinic, channel="cli"), Action.VIEW, None, summary="calibration report")
    if args.plot:
        plot_calibration(result.report, args.plot)
    if args.json:
        print(json.dumps({"clinic": clinic.slug, **result.report.to_dict()}))
    else:
        print(f"{clinic.name} ({clinic.slug})")
        print(result.report.table())
    return 0
