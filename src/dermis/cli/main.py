"""The `dermis` command. Each sub-command lives in its own module and registers itself here."""

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
    "dermis.cli.backup",
    "dermis.cli.recall",
    "dermis.cli.audit",
)


def build_parser() -> argparse.ArgumentParser:
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
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet; the others still work
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
