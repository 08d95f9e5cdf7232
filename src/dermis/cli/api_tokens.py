"""`dermis token create|revoke` (API tokens) and `dermis export-fhir` (a patient as FHIR JSON).

Django is imported inside the command functions, so the other sub-commands start without it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dermis.cli.web import _setup_django

DEFAULT_DAYS = 90


def register(subparsers: argparse._SubParsersAction) -> None:
    token = subparsers.add_parser(
        "token",
        help="create or revoke an API token",
        description="API tokens are sent as `Authorization: Bearer <token>` and act as their "
        "user. Only a hash is stored: the token is printed once, when it is created.",
    )
    actions = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="print a new token for a user")
    create.add_argument("username")
    create.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help=f"days until it expires ({DEFAULT_DAYS})"
    )
    create.add_argument("--name", default="", help="what the token is for, e.g. 'booking site'")
    create.set_defaults(func=create_command)
    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=revoke_command)

    export = subparsers.add_parser(
        "export-fhir",
        help="write a patient's record as a FHIR R5 Bundle (JSON)",
        description="Write everything recorded about one patient as a FHIR R5 Bundle.",
    )
    export.add_argument("patient_id", type=int, metavar="PATIENT_ID")
    export.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(func=export_command)


def create_command(args: argparse.Namespace) -> int:
    if not _setup_django(local_tool=True):
        return 2
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.errors import ServiceError
    from dermis.web.clinic.tenancy import tokens

    try:
        row, token = tokens.issue_token(
            Actor.operator("cli"), username=args.username, days=args.days, name=args.name
        )
    except ServiceError as err:
        detail = f"no user {args.username!r}" if err.field == "username" else err.message
        print(f"dermis: error: {err.field}: {detail}", file=sys.stderr)
        return 2
    print(token)
    print(
        f"token {row.pk} for {args.username}, expires {row.expires_at:%Y-%m-%d}. "
        "It is shown only now: store it safely.",
        file=sys.stderr,
    )
    return 0


def revoke_command(args: argparse.Namespace) -> int:
    if not _setup_django(local_tool=True):
        return 2
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.errors import ServiceError
    from dermis.web.clinic.tenancy import tokens

    try:
        row = tokens.revoke_token(Actor.operator("cli"), args.id)
    except ServiceError:
        print(f"dermis: error: id: no token {args.id}", file=sys.stderr)
        return 2
    print(f"token {row.pk} ({row.prefix}...) revoked at {row.revoked_at:%Y-%m-%d %H:%M}")
    return 0


def export_command(args: argparse.Namespace) -> int:
    if not _setup_django(local_tool=True):
        return 2
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.audit import Action, record
    from dermis.web.clinic.models import Patient
    from dermis.web.fhir.export import patient_bundle

    patient = Patient.objects.filter(pk=args.patient_id).first()
    if patient is None:
        print(f"dermis: error: PATIENT_ID: no patient {args.patient_id}", file=sys.stderr)
        return 2
    text = patient_bundle(patient).model_dump_json(exclude_none=True, indent=2)
    # The command line acts as the clinic's own process; the trail still says the record left.
    record(
        Actor.system(patient.clinic, channel="cli"), Action.EXPORT, patient, summary="FHIR bundle"
    )
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0
