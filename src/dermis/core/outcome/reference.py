"""The same equations integrated numerically with scipy, draw by draw: the benchmark's baseline.

Used to check the closed form (tests) and to measure its speed-up (`benchmarks/bench_outcome.py`).
Never used for forecasts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.integrate import solve_ivp

from dermis.core.outcome.kinetics import F64, Draws, Kinetics


def _rhs(a: float, p: float, m: float, e: float) -> Callable[[float, F64], list[float]]:
    def f(_t: float, x: F64) -> list[float]:
        A, P, M, E = x
        return [-a * A, a * A - p * P, p * P - m * M, -e * E]

    return f


def log_severity_ivp(
    kin: Kinetics,
    draws: Draws,
    sessions: Sequence[int],
    horizon_days: int,
    clock: F64,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> F64:
    """y for days 0..horizon_days, shape (days, n), by solve_ivp between sessions."""
    days = np.arange(horizon_days + 1)
    out = np.empty((days.size, draws.n))
    for i in range(draws.n):
        m, p = float(draws.turnover[i]), float(draws.maturation[i])
        rhs = _rhs(kin.inflammation_rate, p, m, kin.epidermal_rate)
        x = np.zeros(4)
        gain = np.zeros(days.size)
        edges = [*sessions, horizon_days + 1]
        for k, t0 in enumerate(sessions):
            load = x[0] + x[1] + x[2]
            r = draws.response[i]
            u = r * kin.dose / (1.0 + load / (r * kin.capacity))
            x = x + np.array([u, 0.0, 0.0, 0.0])
            x[3] = max(x[3], r * kin.epidermal)
            t1 = edges[k + 1]
            grid = days[(days >= t0) & (days < t1)]
            sol = solve_ivp(
                rhs, (t0, t1), x, t_eval=np.append(grid, t1), rtol=rtol, atol=atol, method="RK45"
            )
            _, P, M, E = sol.y
            visible = draws.efficacy[i] * (draws.visibility[i] * P + M) + E
            gain[grid] = visible[:-1]
            x = sol.y[:, -1]
        out[:, i] = draws.ageing[i] * clock[: days.size] - gain
    return out
