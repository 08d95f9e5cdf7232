"""Benchmark of the command line's start-up: `python benchmarks/bench_cli.py` prints a table.

Each line is the median wall time of a fresh process, measured in the same run against a bare
Python start (the floor): `dermis forecast --json` (imports only what a forecast needs), the same
with `--plot` (matplotlib too), and every command's imports at once (what each start cost before
the command line imported only the command being run).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import format_table

FORECAST = [
    "-m", "dermis.cli.main", "forecast", "--modality", "microneedling",
    "--concern", "acne_scars_rolling", "--age", "35", "--sessions", "0,28,56",
    "--horizon-days", "900", "--draws", "200",
]  # fmt: skip
BUDGET_JSON_S = 1.0


def _median_seconds(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per line (median)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        plot = str(Path(tmp) / "forecast.png")
        floor = _median_seconds(["-c", "pass"], runs)
        measured = [
            ("python -c pass (floor)", floor, ""),
            ("dermis forecast --json", _median_seconds([*FORECAST, "--json"], runs), "json"),
            ("dermis forecast --plot FILE", _median_seconds([*FORECAST, "--plot", plot], runs), ""),
            (
                "every command's imports (before)",
                _median_seconds(["-c", "import dermis.cli.main as m; m.build_parser()"], runs),
                "",
            ),
        ]
    rows = []
    for name, seconds, kind in measured:
        budget = f"< {BUDGET_JSON_S:.1f} s" if kind == "json" else ""
        note = f"{seconds / floor:.1f}x floor" if name != measured[0][0] else ""
        if kind == "json":
            note += ", ok" if seconds < BUDGET_JSON_S else ", OVER BUDGET"
        rows.append((name, f"{seconds * 1000:.0f} ms", budget, note))
    print(f"CLI start-up, median of {runs} fresh processes each")
    print(format_table(rows))


if __name__ == "__main__":
    main()
