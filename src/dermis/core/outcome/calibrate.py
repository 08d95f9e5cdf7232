"""Fit the fitted parameters to the calibration targets and print the fit, target by target.

    python -m dermis.core.outcome.calibrate           # fit, print before/after, do not write
    python -m dermis.core.outcome.calibrate --write   # ... and write the values to the YAML
    python -m dermis.core.outcome.calibrate --check   # print the current fit (exit 1 on a miss)

The fit is block by block (timeline, then spread and concern efficacies, then microdermabrasion),
each block a Nelder-Mead search over the log of its parameters inside their bounds, with common
random numbers (one seed) so the loss is a smooth function of the parameters.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from dermis.core.outcome.parameters import (
    DEFAULT_PATH,
    OutcomeParameters,
    get_param,
    iter_params,
    load_parameters,
    rewrite_values,
    with_values,
)
from dermis.core.outcome.targets import TARGETS, Evaluator, Target, evaluate

# (parameters, target ids): each block is fitted on its own targets, in this order.
BLOCKS: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = (
    (
        (
            "collagen_efficacy",
            "kinetics.maturation_rate",
            "kinetics.turnover_rate",
            "dose.capacity",
            "ageing.base_rate",
        ),
        frozenset(
            {
                "seeds_peak_1_3_months",
                "seeds_reversal_3_12_months",
                "seeds_single_session_6_12_months",
                "seeds_series_1_3_years",
                "seeds_maintenance_5_10_years",
                "eldomyati2015",
            }
        ),
    ),
    (
        (
            "variability.response_sd_log",
            "concerns.acne_scars_rolling.efficacy",
            "concerns.acne_scars_boxcar.efficacy",
            "concerns.stretch_marks.efficacy",
            "concerns.fine_lines.efficacy",
        ),
        frozenset(
            {"dalwig2020", "majid2009", "lotfi2013", "alster2020", "mohamedali2017", "alqam2022"}
        ),
    ),
    (
        ("dose.microdermabrasion_collagen", "epidermal_efficacy"),
        frozenset({"seeds_mda_glow_temporary", "shim2001", "tan2001", "mohamedali2017"}),
    ),
)


def total_loss(
    params: OutcomeParameters, targets: Sequence[Target], n_draws: int, seed: int
) -> float:
    ev = Evaluator(params, n_draws, seed)
    return sum(t.loss(v) for t, v in evaluate(ev, tuple(targets)))


def fit_block(
    params: OutcomeParameters,
    names: Sequence[str],
    targets: Sequence[Target],
    n_draws: int,
    seed: int,
    max_evals: int,
) -> OutcomeParameters:
    """Nelder-Mead over the parameters' logs, mapped into their bounds by a logistic."""
    bounds = [get_param(params, name).bounds for name in names]
    lo = np.log([b[0] for b in bounds if b])
    hi = np.log([b[1] for b in bounds if b])
    start = np.log([get_param(params, name).value for name in names])
    frac = np.clip((start - lo) / (hi - lo), 1e-3, 1 - 1e-3)
    x0 = np.log(frac / (1 - frac))

    def values(x: np.ndarray) -> dict[str, float]:
        logv = lo + (hi - lo) / (1 + np.exp(-x))
        return {name: float(np.exp(v)) for name, v in zip(names, logv, strict=True)}

    def loss(x: np.ndarray) -> float:
        return total_loss(with_values(params, values(x)), targets, n_draws, seed)

    result = minimize(
        loss, x0, method="Nelder-Mead", options={"maxfev": max_evals, "xatol": 1e-3, "fatol": 1e-4}
    )
    best = result.x if result.fun <= loss(x0) else x0
    return with_values(params, {k: _round(v) for k, v in values(best).items()})


def _round(value: float) -> float:
    """Four significant digits: the targets cannot tell finer values apart."""
    if value == 0:
        return 0.0
    return round(value, 3 - math.floor(math.log10(abs(value))))


def calibrate(
    params: OutcomeParameters,
    n_draws: int = 400,
    seed: int = 0,
    rounds: int = 2,
    max_evals: int = 300,
) -> OutcomeParameters:
    for _ in range(rounds):
        for names, ids in BLOCKS:
            targets = [t for t in TARGETS if t.fitted and t.id in ids]
            params = fit_block(params, names, targets, n_draws, seed, max_evals)
    return params


def report(
    results: list[tuple[Target, float]], before: list[tuple[Target, float]] | None = None
) -> str:
    """The fit table: target, source, expected, model (and before), met."""
    before_col = f" {'before':>9}" if before else ""
    head = f"{'target':66} {'source':18} {'expected':>15}{before_col} {'model':>9}  met"
    lines = [head, "-" * len(head)]
    for i, (t, v) in enumerate(results):
        expected = f"{_fmt(t.low)}..{_fmt(t.high)}"
        prior = f" {_fmt(before[i][1]):>9}" if before else ""
        mark = "yes" if t.contains(v) else "NO"
        kind = "" if t.fitted else " (shape)"
        name = f"{t.id}: {t.case}"
        lines.append(
            f"{name:66.66} {t.citation:18.18} {expected:>15}{prior} {_fmt(v):>9}  {mark}{kind}"
        )
    met = sum(t.contains(v) for t, v in results)
    lines.append(f"\n{met} of {len(results)} targets met")
    return "\n".join(lines)


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dermis.core.outcome.calibrate")
    parser.add_argument("--parameters", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="print the fit only; exit 1 on a miss")
    parser.add_argument("--write", action="store_true", help="write the fitted values to the file")
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    params = load_parameters(args.parameters)
    before = evaluate(Evaluator(params, args.draws, args.seed))
    if args.check:
        print(report(before))
        return 0 if all(t.contains(v) for t, v in before) else 1
    fitted = calibrate(params, args.draws, args.seed, args.rounds)
    after = evaluate(Evaluator(fitted, args.draws, args.seed))
    print(report(after, before))
    print("\nfitted parameters:")
    for name, param in iter_params(fitted):
        if param.basis == "fitted":
            old = get_param(params, name).value
            print(f"  {name:40} {old:>10.4g} -> {param.value:<10.4g} {param.unit}")
    if args.write:
        fitted_values = {n: p.value for n, p in iter_params(fitted) if p.basis == "fitted"}
        text = rewrite_values(args.parameters.read_text(encoding="utf-8"), fitted_values)
        args.parameters.write_text(text, encoding="utf-8")
        print(f"\nwritten to {args.parameters}")
    else:
        print("\nnot written (use --write)")
    return 0 if all(t.contains(v) for t, v in after) else 1


if __name__ == "__main__":
    sys.exit(main())
