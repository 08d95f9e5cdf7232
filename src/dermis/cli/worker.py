"""`dermis worker`: send reminders and waitlist offers, and run background tasks, until stopped.

Run one or more next to the web server (several machines may share one PostgreSQL: workers never
take the same reminder). Django is imported only when the command runs.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    worker = subparsers.add_parser(
        "worker",
        help="send due reminders and waitlist offers, and run queued background tasks",
        description="Claim due reminders in short transactions, send them with no database "
        "lock held, and record each result. Stops cleanly on SIGTERM.",
    )
    worker.add_argument("--once", action="store_true", help="send what is due now, then exit")
    worker.add_argument(
        "--interval", default="5", help="seconds to wait when there is nothing to do (default 5)"
    )
    worker.add_argument("--batch", default="20", help="reminders claimed per round (default 20)")
    worker.set_defaults(func=worker_command)


def worker_command(args: argparse.Namespace) -> int:
    from dermis.cli.web import manage_command

    arguments = ["reminder_worker", "--interval", args.interval, "--batch", args.batch]
    if args.once:
        arguments.append("--once")
    return manage_command(argparse.Namespace(arguments=arguments))
