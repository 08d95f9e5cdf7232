"""The scale benchmark's report (benchmarks/scale.py): each page's p95 against both references,
the floor (`/healthz`) and the signed-in floor, and the growth from the small clinic to the
large."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _scale():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("scale_benchmark", BENCHMARKS / "scale.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_each_page_is_given_against_the_floor_and_the_signed_in_floor():
    scale = _scale()
    # (p50, p95, queries)
    small = {scale.FLOOR: (1.0, 2.0, 4), scale.SIGNED_IN: (4.0, 5.0, 3), "record": (20, 30.0, 22)}
    large = {scale.FLOOR: (1.0, 2.0, 4), scale.SIGNED_IN: (4.0, 5.0, 3), "record": (24, 40.0, 22)}
    text = scale.report({"small": small, "large": large})
    lines = [line.split() for line in text.splitlines() if line.startswith("record")]
    # p50, p95, p95/floor, p95/signed-in, queries: the small clinic, then the large
    assert lines[0] == ["record", "20.0", "30.0", "15.0", "6.0", "22"]
    assert lines[1] == ["record", "24.0", "40.0", "20.0", "8.0", "22"]
    # growth of p95 / floor: 15 -> 20 is +33 %
    assert lines[2][:4] == ["record", "15.0", "20.0", "33%"]


def test_statements_sent_as_one_string_are_each_counted():
    scale = _scale()
    found = scale.STATEMENT.findall
    assert len(found('SELECT "a" FROM "t" WHERE "b" = 1')) == 1
    assert len(found('SELECT 1; SELECT "x" FROM "t"; SELECT 3')) == 3
    assert len(found("BEGIN; SELECT seq FROM head FOR UPDATE")) == 1
    assert len(found("WITH head AS (UPDATE h SET seq = 2) INSERT INTO e VALUES (1); COMMIT")) == 1
    assert len(found("BEGIN")) == len(found("COMMIT")) == 0
