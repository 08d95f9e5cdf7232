"""The command line imports only what the command being run needs: a forecast without a plot
never loads matplotlib, scipy or Django (their start-up cost more than the forecast; the timing
is in benchmarks/bench_cli.py, not here)."""

from __future__ import annotations

import json
import subprocess
import sys

from dermis.cli import main

HEAVY = ("matplotlib", "scipy", "django", "dermis.web", "dermis.core.knowledge")

PROBE = """
import json, sys
from dermis.cli.main import main
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in
    {"matplotlib", "scipy", "django"} or m.startswith(("dermis.web", "dermis.core.knowledge")))}))
"""


def _loaded(*argv: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_command_line_loads_nothing_heavy():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, dermis.cli.main; print(sorted(sys.modules))"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    modules = out.stdout
    assert not [name for name in HEAVY if f"'{name}" in modules]


def test_a_forecast_without_a_plot_loads_no_plotting_scipy_or_django():
    result = _loaded(
        "forecast", "--modality", "microneedling", "--concern", "laxity", "--age", "45",
        "--sessions", "0,28", "--horizon-days", "200", "--draws", "50", "--json",
    )  # fmt: skip
    assert result == {"code": 0, "loaded": []}


def test_every_command_is_mapped_to_the_module_that_registers_it():
    import argparse
    import importlib

    registered = {}
    for name in main.SUBCOMMAND_MODULES:
        parser = argparse.ArgumentParser()
        importlib.import_module(name).register(parser.add_subparsers())
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        registered.update(dict.fromkeys(sub.choices, name))
    assert registered == main.COMMANDS


def test_the_command_is_found_after_the_global_options():
    assert main.command_of(["--knowledge", "k.yaml", "forecast", "--json"]) == "forecast"
    assert main.command_of(["--help"]) is None
