"""Benchmark of the outcome model: `python benchmarks/bench_outcome.py` (or `make bench`).

Runs on one core (CPU affinity and single-threaded BLAS) and measures, in the same run, the closed
form (with parameter uncertainty: every draw has its own response, efficacy, maturation, turnover
and decline) against a straightforward `scipy.integrate.solve_ivp` integration of the same
equations, draw by draw. The baseline is timed on a subset of draws and scaled to the full count
(its cost is linear in the draws); both are checked to agree. Also times the maintenance planner
and the clinic calibration report over a simulated clinic of 5,000 patients.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402 - the variables above must be set before numpy loads
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402

import numpy as np  # noqa: E402
from bench_common import _pin_one_core, format_table  # noqa: E402

from dermis.core.outcome import OutcomeModel, make_patient, make_treatment  # noqa: E402
from dermis.core.outcome.clinic_calibration import calibration_report  # noqa: E402
from dermis.core.outcome.clinic_records import synthetic_clinic  # noqa: E402
from dermis.core.outcome.kinetics import improvement_pct  # noqa: E402
from dermis.core.outcome.maintenance import plan_maintenance  # noqa: E402
from dermis.core.outcome.reference import log_severity_ivp  # noqa: E402

HORIZON = 3652  # 10 years, daily
SERIES = (0, 28, 56)
MAINTENANCE = tuple(range(56 + 365, HORIZON, 365))


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm-up: imports, caches, page faults
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return min(runs), statistics.median(runs)


def run(
    draws: int = 1000, baseline_draws: int = 20, repeat: int = 15, clinic: int = 5000
) -> list[tuple[str, str, str, str]]:
    patient = make_patient(45)
    laxity = make_treatment("microneedling", "laxity")
    sessions = SERIES + MAINTENANCE
    model = OutcomeModel(n_draws=draws, seed=0).fit(patient, laxity, SERIES)

    def forecast() -> object:
        return OutcomeModel(n_draws=draws, seed=0).fit(patient, laxity).predict(HORIZON, sessions)

    def simulate() -> object:
        return model.log_severity(sessions, 0, HORIZON + 1)

    fc_best, fc_med = _time(forecast, repeat)
    sim_best, _ = _time(simulate, repeat)

    small = OutcomeModel(n_draws=max(baseline_draws, 20), seed=0).fit(patient, laxity)
    subset = small.draws_.take(np.arange(baseline_draws))
    clock = small.clock(HORIZON + 1)
    t0 = time.perf_counter()
    y_ivp = log_severity_ivp(small.kinetics_, subset, sessions, HORIZON, clock)
    ivp_per_draw = (time.perf_counter() - t0) / baseline_draws
    ivp_full = ivp_per_draw * draws
    y_closed = small.log_severity(sessions, 0, HORIZON + 1)[:, :baseline_draws]
    error = float(np.max(np.abs(improvement_pct(y_closed) - improvement_pct(y_ivp))))

    def plan() -> object:
        m = OutcomeModel(n_draws=draws, seed=0).fit(patient, laxity, SERIES)
        return plan_maintenance(m, SERIES, 10, 0.5, min_interval_days=180, max_interval_days=365)

    def plan_mda() -> object:
        treatment = make_treatment("microdermabrasion", "uneven_texture", "crystal")
        m = OutcomeModel(n_draws=draws, seed=0).fit(patient, treatment, (0, 14, 28, 42, 56, 70))
        return plan_maintenance(
            m, (0, 14, 28, 42, 56, 70), 5, 0.5, min_interval_days=28, max_interval_days=120
        )

    plan_best, plan_med = _time(plan, max(3, repeat // 3))
    mda_best, mda_med = _time(plan_mda, max(3, repeat // 3))
    records = synthetic_clinic(clinic, seed=0)
    t0 = time.perf_counter()
    report = calibration_report(records)
    report_s = time.perf_counter() - t0

    def ms(x: float) -> str:
        return f"{x * 1000:,.1f} ms"

    def verdict(x: float, budget: float) -> str:
        return "ok" if x <= budget else "OVER"

    return [
        (f"forecast: 10 years daily, {draws} draws, {len(sessions)} sessions (fit + p10/p50/p90)",
         f"{ms(fc_best)} (median {ms(fc_med)})", "<= 50 ms", verdict(fc_best, 0.050)),
        ("  of which the closed-form simulation of all draws", ms(sim_best), "", ""),
        (f"solve_ivp baseline, draw by draw (timed on {baseline_draws}, scaled to {draws})",
         f"{ivp_full:,.2f} s ({ms(ivp_per_draw)} per draw)", "", ""),
        ("speed-up: baseline / forecast", f"{ivp_full / fc_best:,.0f}x", ">= 100x",
         "ok" if ivp_full / fc_best >= 100 else "UNDER"),
        ("speed-up: baseline / closed-form simulation", f"{ivp_full / sim_best:,.0f}x", "", ""),
        ("agreement: max |closed form - solve_ivp| (rtol 1e-6)", f"{error:.1e} points", "", ""),
        (f"maintenance planner: microneedling, 10 years, {draws} draws (fit + plan)",
         f"{ms(plan_best)} (median {ms(plan_med)})", "<= 500 ms", verdict(plan_best, 0.5)),
        (f"maintenance planner: microdermabrasion, 5 years, {draws} draws (fit + plan)",
         f"{ms(mda_best)} (median {ms(mda_med)})", "", ""),
        (f"calibration report: {clinic:,} patients, {report.overall.n:,} grades, 400 draws each",
         f"{report_s:,.2f} s", "< 10 s", verdict(report_s, 10.0)),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/bench_outcome.py", description=__doc__)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--baseline-draws", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--clinic", type=int, default=5000, help="patients in the simulated clinic")
    args = parser.parse_args(argv)
    pinned = _pin_one_core()
    versions = f"numpy {np.__version__}; python {sys.version.split()[0]}"
    print(f"dermis outcome-model benchmark ({pinned}; {versions})\n")
    print(format_table(run(args.draws, args.baseline_draws, args.repeat, args.clinic)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
