"""The closed-form solution of the per-session compartment model, vectorised over Monte Carlo draws.

Per draw, with sessions at days t_s:

    A' = -a A                 signal / inflammation        A(t_s+) = A(t_s-) + u_s
    P' =  a A - p P           immature (type III) collagen
    M' =  p P - m M           mature (type I) collagen, lost to turnover
    E' = -e E                 epidermal response ("glow")  E(t_s+) = max(E(t_s-), r v)
    u_s = r dose / (1 + (A + P + M)(t_s-) / (r capacity))   diminishing, never vanishing, returns

r is the draw's response multiplier (a strong responder gets more from each session and saturates
later); p (maturation), w (how much immature collagen shows) and m (turnover) differ from draw to
draw: late responders (slow p, low w) and fast faders (high m).
The epidermal response is a state of the surface, not a stock: a session renews it, it does not
add to what is left of the last one, so weekly sessions cannot stack it into a dermal result.

    g   = k (w P + M) + E                                         visible gain, log-severity
    y   = ageing * clock(t) - g                                   log of severity / pre-treatment
    improvement = c (1 - exp(y)) if y < 0 else 1 - exp(y)         bounded by the ceiling c

Between sessions the system is linear with constant rates, so each compartment is a sum of the
exponentials exp(-a t), exp(-p t), exp(-m t), exp(-e t) (Bateman's solution). We propagate the state
exactly from session to session and evaluate the exponential modes on the daily grid; no ODE
integrator is involved. `reference.py` integrates the same equations with scipy for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]

_BLOCK = 64  # exp(-m (64 h + l)) = exp(-64 m h) * exp(-m l): two small tables, one product


@dataclass(frozen=True)
class Kinetics:
    """Patient-level constants: the same for every draw."""

    inflammation_rate: float  # a, 1/day
    epidermal_rate: float  # e, 1/day
    dose: float  # collagen dose of one session (median patient), reference-session doses
    capacity: float  # load that halves the dose of the next session, same units
    immature_visibility: float  # median w (each draw has its own, Draws.visibility)
    epidermal: float  # epidermal dose * efficacy * concern weight, log-severity per session
    ceiling: float = 1.0  # c: the largest share of the severity treatment can remove


@dataclass(frozen=True)
class Draws:
    """Per-draw values, each an array of shape (n,)."""

    response: F64  # r, multiplies the dose, the capacity and the epidermal response
    turnover: F64  # m, 1/day
    ageing: F64  # log-severity per year of the ageing clock
    maturation: F64  # p, 1/day
    efficacy: F64  # k, collagen -> log-severity
    visibility: F64  # w, how much the immature collagen shows (0..1): low for late responders

    @property
    def n(self) -> int:
        return int(self.response.shape[0])

    def take(self, index: NDArray[np.intp]) -> Draws:
        return Draws(
            self.response[index],
            self.turnover[index],
            self.ageing[index],
            self.maturation[index],
            self.efficacy[index],
            self.visibility[index],
        )


@dataclass(frozen=True)
class State:
    """Compartments of every draw just after the sessions up to `day` (inclusive)."""

    day: int
    A: F64
    P: F64
    M: F64
    E: F64

    @classmethod
    def empty(cls, n: int) -> State:
        z = np.zeros(n)
        return cls(-1, z, z, z, z)


def _chain_coefficients(a: float, p: F64, m: F64) -> tuple[F64, F64, F64, F64, F64]:
    """Bateman coefficients of the chain A -> P -> M (rates a, p, m; all distinct)."""
    k_ap = a / (p - a)
    k_pm = p / (m - p)
    alpha = a * p / ((p - a) * (m - a))
    beta = a * p / ((a - p) * (m - p))
    gamma = a * p / ((a - m) * (p - m))
    return k_ap, k_pm, alpha, beta, gamma


def propagate(kin: Kinetics, draws: Draws, state: State, day: int) -> State:
    """The state at `day` (>= state.day) with no session in between."""
    dt = day - state.day
    if dt == 0 or state.day < 0:
        return State(day, state.A, state.P, state.M, state.E)
    a, e = kin.inflammation_rate, kin.epidermal_rate
    p, m = draws.maturation, draws.turnover
    ea, ep, em = np.exp(-a * dt), np.exp(-p * dt), np.exp(-m * dt)
    k_ap, k_pm, alpha, beta, gamma = _chain_coefficients(a, p, m)
    A = state.A * ea
    P = state.P * ep + state.A * k_ap * (ea - ep)
    M = state.M * em + state.P * k_pm * (ep - em) + state.A * (alpha * ea + beta * ep + gamma * em)
    return State(day, A, P, M, state.E * np.exp(-e * dt))


def session_dose(kin: Kinetics, draws: Draws, load: F64) -> F64:
    """Collagen dose of a session given the response still in the tissue (hyperbolic)."""
    r = draws.response
    return r * kin.dose / (1.0 + load / (r * kin.capacity))


def apply_session(kin: Kinetics, draws: Draws, state: State, day: int) -> State:
    """Propagate to `day` and add one session; the surface response is renewed, not added."""
    s = propagate(kin, draws, state, day)
    u = session_dose(kin, draws, s.A + s.P + s.M)
    return State(day, s.A + u, s.P, s.M, np.maximum(s.E, draws.response * kin.epidermal))


def advance(kin: Kinetics, draws: Draws, state: State, sessions: Sequence[int]) -> State:
    """Apply sessions (days after state.day, increasing) in order."""
    for day in sessions:
        state = apply_session(kin, draws, state, int(day))
    return state


def components_at(kin: Kinetics, draws: Draws, state: State, day: int) -> tuple[F64, F64]:
    """(dermal gain, epidermal gain) of every draw on `day`, no session in between."""
    s = propagate(kin, draws, state, day)
    return draws.efficacy * (draws.visibility * s.P + s.M), s.E


_fine_cache: list[tuple[F64, F32]] = []


def _fine_table(rates: F64) -> F32:
    """exp(-rate * l) for l in [0, 64): the same for every segment of a model, so kept."""
    for cached_rates, table in _fine_cache:
        if cached_rates is rates:
            return table
    table = np.exp(-np.outer(np.arange(_BLOCK), rates)).astype(np.float32)
    _fine_cache.insert(0, (rates, table))
    del _fine_cache[8:]
    return table


def _subtract_decay(out: F32, rates: F64, scale: F64) -> None:
    """out[j] -= scale * exp(-rate * j) for every row j, in place, by blocks of 64 days.

    exp(-m (64 h + l)) = exp(-64 m h) * exp(-m l): two small exponential tables, no large temporary.
    Blocks where the mode has died out (below 1e-9 of a log unit) are skipped.
    """
    length = out.shape[0]
    blocks = -(-length // _BLOCK)
    fine = _fine_table(rates)
    coarse = (np.exp(-np.outer(np.arange(blocks) * _BLOCK, rates)) * scale).astype(np.float32)
    alive = np.max(np.abs(coarse), axis=1) > 1e-9
    for h in np.nonzero(alive)[0]:
        rows = out[h * _BLOCK : (h + 1) * _BLOCK]
        rows -= coarse[h] * fine[: rows.shape[0]]


def _segment(kin: Kinetics, draws: Draws, s: State, clock: F64, tau0: int, out: F32) -> None:
    """Write y on the days s.day + tau0 + j (one row each) into out, starting from state s."""
    a, e = kin.inflammation_rate, kin.epidermal_rate
    p, m = draws.maturation, draws.turnover
    k_ap, k_pm, alpha, beta, gamma = _chain_coefficients(a, p, m)
    w, eff = draws.visibility, draws.efficacy
    tau = tau0 + np.arange(out.shape[0])
    # y = ageing * clock - the modes whose rates all draws share (one thin matrix product) ...
    profiles = np.column_stack([clock, np.exp(-a * tau), np.exp(-e * tau)])
    weights = np.vstack([draws.ageing, -eff * s.A * (w * k_ap + alpha), -s.E])
    np.matmul(profiles.astype(np.float32), weights.astype(np.float32), out=out)
    # ... minus the maturation and turnover modes, whose rates differ from draw to draw
    c_p = eff * (w * (s.P - s.A * k_ap) + s.P * k_pm + s.A * beta) * np.exp(-p * tau0)
    c_m = eff * (s.M - s.P * k_pm + s.A * gamma) * np.exp(-m * tau0)
    if np.any(c_p):
        _subtract_decay(out, p, c_p)
    if np.any(c_m):
        _subtract_decay(out, m, c_m)


def log_severity(
    kin: Kinetics,
    draws: Draws,
    state: State,
    sessions: Sequence[int],
    start: int,
    stop: int,
    clock: F64,
) -> F32:
    """y = log(severity / pre-treatment severity) for days [start, stop), shape (days, n).

    `state` holds the sessions up to state.day <= start; `sessions` are the later ones.
    `clock[t]` is the patient's ageing clock (years of reference-rate decline) at day t.
    """
    out = np.empty((max(0, stop - start), draws.n), dtype=np.float32)
    later = [int(d) for d in sessions if d > state.day]
    cursor = state
    seg_start = start
    for k, seg_end in enumerate([*later, stop]):
        lo, hi = max(start, seg_start), min(stop, seg_end)
        if hi > lo:
            rows = out[lo - start : hi - start]
            if cursor.day < 0:  # nothing done yet: the untreated decline only
                rows[:] = np.multiply.outer(clock[lo:hi], draws.ageing)
            else:
                _segment(kin, draws, cursor, clock[lo:hi], lo - cursor.day, rows)
        if seg_end >= stop:
            break
        cursor = apply_session(kin, draws, cursor, later[k])
        seg_start = later[k]
    return out


def quantile_rows(y: F32, probs: Sequence[float]) -> F64:
    """Quantiles over draws (axis 1) of y, shape (len(probs), days), linear interpolation.

    One full sort: faster than np.partition with several order statistics at once.
    """
    n = y.shape[1]
    ys = np.sort(y, axis=1)
    out = np.empty((len(probs), y.shape[0]))
    for i, q in enumerate(probs):
        h = (n - 1) * q
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        frac = h - lo
        out[i] = ys[:, lo] + frac * (ys[:, hi].astype(np.float64) - ys[:, lo])
    return out


def quantile_row(y: F32, prob: float) -> F64:
    """One quantile over draws (axis 1), as quantile_rows, by partial sorting (faster)."""
    n = y.shape[1]
    h = (n - 1) * prob
    lo = int(np.floor(h))
    frac = h - lo
    part = np.partition(y, lo, axis=1)
    low = part[:, lo].astype(np.float64)
    if frac == 0 or lo + 1 >= n:
        return low
    return low + frac * (part[:, lo + 1 :].min(axis=1) - low)


def improvement_pct(y: NDArray[np.floating], ceiling: float = 1.0) -> F64:
    """Improvement in percent of pre-treatment severity from log-severity.

    Gains are bounded by the ceiling (the share of the severity treatment can remove); a
    worsening (y > 0, the untreated decline) is not scaled. Decreasing in y, so quantiles of y map
    to quantiles of improvement.
    """
    y = np.asarray(y, dtype=np.float64)
    gain = -np.expm1(y)
    return 100.0 * np.where(y < 0, ceiling * gain, gain)


def log_severity_at(pct: float, ceiling: float = 1.0) -> float:
    """The log-severity at which improvement equals `pct` percent."""
    frac = pct / 100.0
    return float(np.log1p(-frac / ceiling) if frac > 0 else np.log1p(-frac))
