"""`OutcomeModel`: Monte Carlo draws for one patient and treatment, and forecasts from them.

In the scikit-learn style: the constructor only stores its arguments; `fit` draws the population
for the patient (conditioned on follow-up grades when there are some) and sets attributes ending
in `_`; `predict` returns quantile bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dermis.core.errors import InputError
from dermis.core.outcome import kinetics as kx
from dermis.core.outcome.forecast import Forecast
from dermis.core.outcome.inputs import (
    OutcomePatient,
    Treatment,
    validate_horizon,
    validate_sessions,
)
from dermis.core.outcome.parameters import OutcomeParameters, load_parameters
from dermis.core.outcome.personalise import (
    FollowUp,
    ageing_clock,
    draw_population,
    importance_resample,
    log_likelihood,
    patient_kinetics,
    split_oedema,
    validate_follow_ups,
)

QUANTILES = (0.1, 0.5, 0.9)


class NotFittedError(RuntimeError):
    """predict() or simulate() called before fit()."""


class OutcomeModel:
    """Forecast improvement of a treated concern, with uncertainty, for one patient.

    parameters: the parameter set (the packaged, calibrated one by default).
    n_draws: Monte Carlo draws kept for forecasts.
    seed: seed of the random generator; the same seed gives the same forecast.
    pool_factor: with follow-ups, draws from a pool this many times larger are re-weighted.
    """

    def __init__(
        self,
        parameters: OutcomeParameters | None = None,
        n_draws: int = 1000,
        seed: int = 0,
        pool_factor: int = 8,
    ) -> None:
        self.parameters = parameters
        self.n_draws = n_draws
        self.seed = seed
        self.pool_factor = pool_factor

    def get_params(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "n_draws": self.n_draws,
            "seed": self.seed,
            "pool_factor": self.pool_factor,
        }

    def fit(
        self,
        patient: OutcomePatient,
        treatment: Treatment,
        sessions: Sequence[int] = (),
        follow_ups: Sequence[FollowUp] = (),
    ) -> OutcomeModel:
        """Draw the population for this patient; condition on follow-up grades if given.

        `sessions` are the sessions already done (needed to interpret the follow-ups) and the
        default schedule of predict(). Grades taken within `follow_up.oedema_days` of a session
        measure swelling, not collagen: they are set aside (`set_aside_`) and `notes_` says so.
        """
        n = self.n_draws
        if isinstance(n, bool) or not isinstance(n, int) or not 20 <= n <= 200_000:
            raise InputError("--draws", f"must be a whole number between 20 and 200000, got {n}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError("--seed", f"must be a non-negative whole number, got {self.seed}")
        params = self.parameters if self.parameters is not None else load_parameters()
        history = validate_sessions(sessions) if sessions else ()
        observed = validate_follow_ups(follow_ups)
        rng = np.random.default_rng(self.seed)
        self.parameters_ = params
        self.patient_ = patient
        self.treatment_ = treatment
        self.kinetics_ = patient_kinetics(params, patient, treatment)
        self.threshold_pct_ = float(params.noticeable_threshold_pct.value)
        self.sessions_ = history
        usable, aside = split_oedema(observed, history, params.follow_up.oedema_days.value)
        self.follow_ups_ = usable
        self.set_aside_ = aside
        self.notes_ = _notes(params, treatment, aside)
        self._clock = ageing_clock(params, patient, 366)
        observed = usable
        if not observed:
            self.draws_ = draw_population(params, patient, treatment, n, rng)
            self.effective_draws_ = float(n)
            return self
        pool = draw_population(params, patient, treatment, n * self.pool_factor, rng)
        last = observed[-1].day + 1
        clock = ageing_clock(params, patient, last)
        y = kx.log_severity(self.kinetics_, pool, kx.State.empty(pool.n), history, 0, last, clock)
        predicted = self.improvement(y[[f.day for f in observed]])
        log_w = log_likelihood(predicted, observed, params.follow_up.rater_sd_pct.value)
        index, ess = importance_resample(log_w, n, rng)
        self.draws_ = pool.take(index)
        self.effective_draws_ = ess
        return self

    def improvement(self, y: kx.F32 | kx.F64) -> kx.F64:
        """Improvement in percent from log-severity, with this treatment's ceiling."""
        return kx.improvement_pct(y, self.kinetics_.ceiling)

    @property
    def version_(self) -> str:
        """The version of the parameter set the forecasts come from."""
        return self.parameters_.version

    def _check_fitted(self) -> None:
        if not hasattr(self, "draws_"):
            raise NotFittedError("call fit() before predicting")

    def clock(self, n_days: int) -> kx.F64:
        """The patient's ageing clock for days [0, n_days)."""
        self._check_fitted()
        if self._clock.size < n_days:
            self._clock = ageing_clock(
                self.parameters_, self.patient_, max(n_days, 2 * self._clock.size)
            )
        return self._clock

    def log_severity(
        self,
        sessions: Sequence[int],
        start: int,
        stop: int,
        state: kx.State | None = None,
    ) -> kx.F32:
        """Log-severity of every draw for days [start, stop), shape (days, n_draws)."""
        self._check_fitted()
        state = state if state is not None else kx.State.empty(self.draws_.n)
        return kx.log_severity(
            self.kinetics_, self.draws_, state, sessions, start, stop, self.clock(stop)
        )

    def state_after(self, sessions: Sequence[int]) -> kx.State:
        """The compartments just after the last of `sessions`."""
        self._check_fitted()
        return kx.advance(self.kinetics_, self.draws_, kx.State.empty(self.draws_.n), sessions)

    def simulate(self, horizon_days: int, sessions: Sequence[int] | None = None) -> kx.F64:
        """Improvement (percent) of every draw for days 0..horizon, shape (days, n_draws)."""
        plan = self._schedule(sessions)
        validate_horizon(horizon_days)
        return self.improvement(self.log_severity(plan, 0, horizon_days + 1))

    def predict(self, horizon_days: int, sessions: Sequence[int] | None = None) -> Forecast:
        """p10/p50/p90 of improvement for days 0..horizon_days."""
        plan = self._schedule(sessions)
        validate_horizon(horizon_days)
        y = self.log_severity(plan, 0, horizon_days + 1)
        # improvement falls as log-severity rises: its p10 is the 90th percentile of y
        bands = self.improvement(kx.quantile_rows(y, [1.0 - q for q in QUANTILES]))
        return Forecast(
            days=np.arange(horizon_days + 1),
            p10=bands[0],
            p50=bands[1],
            p90=bands[2],
            noticeable_threshold=self.threshold_pct_,
            sessions=plan,
            n_draws=self.draws_.n,
            effective_draws=self.effective_draws_,
            parameter_set=self.version_,
            notes=self.notes_,
        )

    def _schedule(self, sessions: Sequence[int] | None) -> tuple[int, ...]:
        self._check_fitted()
        if sessions is None:
            if not self.sessions_:
                raise InputError("--sessions", "give at least one session day")
            return self.sessions_
        return validate_sessions(sessions)


def _notes(
    params: OutcomeParameters, treatment: Treatment, aside: Sequence[FollowUp]
) -> tuple[str, ...]:
    notes = []
    if aside:
        days = ", ".join(str(f.day) for f in aside)
        notes.append(
            f"{len(aside)} follow-up grade(s) (day {days}) taken within "
            f"{params.follow_up.oedema_days.value:g} days of a session were set aside: they "
            "measure swelling, not new collagen."
        )
    if treatment.modality == "microdermabrasion":
        notes.append(
            "Most of microdermabrasion's visible gain is epidermal and temporary (it fades within "
            "about a week); only a small collagen response lasts."
        )
    return tuple(notes)
