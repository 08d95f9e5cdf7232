"""`dermis audit verify` (walk the audit hash chain) and `dermis audit app-role-sql` (the grants
that let the app run as a PostgreSQL role that does not own the tables)."""

from __future__ import annotations

import argparse
import re
import sys

from dermis.cli.web import _setup_django

ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def register(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser(
        "audit",
        help="check the audit trail's hash chain; database role grants",
        description="The audit trail is append-only at the database and chained by keyed hashes.",
    )
    actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="exit 0 if every audit event is in the chain unchanged, 1 naming the first break",
    )
    verify.set_defaults(func=verify_command)
    grants = actions.add_parser(
        "app-role-sql",
        help="print the SQL (run it as the owner) that lets ROLE run the app but not alter or "
        "delete the audit trail",
    )
    grants.add_argument("role")
    grants.set_defaults(func=grants_command)


def verify_command(args: argparse.Namespace) -> int:
    if not _setup_django():
        return 2
    from dermis.web.clinic.audit_verify import verify_chain

    report = verify_chain()
    head = f"head: event {report.head_seq}, hash {report.head_hash}"
    if report.intact:
        print(f"audit chain intact: {report.events} events; {head}")
        return 0
    where = (
        f"event id {report.broken_event_id} (number {report.broken_seq})"
        if report.broken_event_id is not None
        else f"after event number {report.events}"
    )
    print(f"audit chain BROKEN at {where}: {report.reason}; {head}", file=sys.stderr)
    return 1


def grants_command(args: argparse.Namespace) -> int:
    if not ROLE.match(args.role):
        print("dermis: error: role: use lower-case letters, digits and _", file=sys.stderr)
        return 2
    if not _setup_django():
        return 2
    from dermis.web.clinic.db_roles import app_role_grants

    print(";\n".join(app_role_grants(args.role)) + ";")
    return 0
