"""The `dermis` command. Each sub-command lives in its own module and registers itself here.

Only the module of the command being run is imported (`dermis forecast --json` never loads
Django, pydantic's knowledge schema or matplotlib); `dermis --help` imports them all."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dermis.core.errors import InputError, KnowledgeError

# Modules that expose `register(subparsers)`; each sets `func` on its parser.
SUBCOMMAND_MODULES = (
    "dermis.cli.clinical",
    "dermis.cli.forecast",
    "dermis.cli.calibration_report",
    "dermis.cli.demo",
    "dermis.cli.web",
    "dermis.cli.api_tokens",
    "dermis.cli.worker",
    "dermis.cli.backup",
    "dermis.cli.recall",
    "dermis.cli.audit",
)
# Which module registers each command (a test checks this against the modules themselves).
COMMANDS = {
    "screen": "dermis.cli.clinical",
    "plan": "dermis.cli.clinical",
    "aftercare": "dermis.cli.clinical",
    "knowledge": "dermis.cli.clinical",
    "forecast": "dermis.cli.forecast",
    "maintain": "dermis.cli.forecast",
    "calibration-report": "dermis.cli.calibration_report",
    "demo": "dermis.cli.demo",
    "manage": "dermis.cli.web",
    "serve": "dermis.cli.web",
    "token": "dermis.cli.api_tokens",
    "export-fhir": "dermis.cli.api_tokens",
    "recall": "dermis.cli.recall",
    "audit": "dermis.cli.audit",
    "worker": "dermis.cli.worker",
    "backup": "dermis.cli.backup",
    "restore": "dermis.cli.backup",
}


def command_of(argv: Sequence[str]) -> str | None:
    """The command named in `argv` (after the global options), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--knowledge":
            skip = True  # its value follows
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`'s command alone when it names a known one, else for every command."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="dermis",
        description="Dermis: decision support for microneedling and microdermabrasion clinics.",
    )
    parser.add_argument(
        "--knowledge",
        metavar="FILE",
        help="a clinic knowledge file (YAML) that overrides the default knowledge base "
        "(also DERMIS_KNOWLEDGE)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    command = command_of(argv) if argv is not None else None
    modules = (COMMANDS[command],) if command in COMMANDS else SUBCOMMAND_MODULES
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet; the others still work
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"dermis: error: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        print(
            f"dermis: error: knowledge file {exc.path}: {exc.key}: {exc.message}", file=sys.stderr
        )
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
