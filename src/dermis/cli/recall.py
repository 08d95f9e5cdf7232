"""`dermis recall recompute [--clinic ID]`: rewrite every stored recall row (with a progress bar).

The rows are kept current by the services (a parameter-set change recomputes them in the
background, run by `dermis worker`); this is for after an upgrade, a change to the knowledge base,
an interrupted background recomputation, or to check nothing drifted. Progress goes to stderr as
counts only, never patient data.
"""

from __future__ import annotations

import argparse
import sys

from dermis.cli.web import _setup_django


def register(subparsers: argparse._SubParsersAction) -> None:
    recall = subparsers.add_parser(
        "recall",
        help="the recall worklist's stored due dates",
        description="The recall worklist reads each patient's stored due dates; the services "
        "keep them current. `recompute` rewrites them all.",
    )
    actions = recall.add_subparsers(dest="action", metavar="ACTION", required=True)
    recompute = actions.add_parser("recompute", help="recompute every patient's due dates")
    recompute.add_argument("--clinic", type=int, metavar="ID", help="only this clinic")
    recompute.add_argument("--quiet", action="store_true", help="no progress bar")
    recompute.set_defaults(func=recompute_command)


def recompute_command(args: argparse.Namespace) -> int:
    if not _setup_django():
        return 2
    from tqdm import tqdm

    from dermis.web.clinic import clock
    from dermis.web.clinic.models import Clinic
    from dermis.web.clinic.scheduling import due_dates, recompute

    clinics = Clinic.objects.order_by("pk")
    if args.clinic is not None:
        clinics = clinics.filter(pk=args.clinic)
        if not clinics.exists():
            print(f"dermis: error: clinic: no clinic {args.clinic}", file=sys.stderr)
            return 2
    clinics = list(clinics)
    total = sum(due_dates.candidates(c).count() for c in clinics)
    began = clock.now()
    with tqdm(
        total=total, unit="patient", file=sys.stderr, disable=args.quiet, desc="recall"
    ) as bar:
        patients, rows = due_dates.recompute(clinics, progress=bar.update)
    recompute.settle(clinics, began)
    print(f"recomputed {patients} patients in {len(clinics)} clinic(s): {rows} recall rows")
    return 0
