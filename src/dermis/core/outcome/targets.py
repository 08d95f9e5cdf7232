"""Calibration targets: what the evidence and the source texts claim, as numbers to meet.

Each target is a statistic of one or more scenarios (a treatment of the reference patient) and
the interval the claim allows. `fitted` targets drive `calibrate`; the others are structural
checks (the shape facts of the evidence) that the model must pass whatever its values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from dermis.core.outcome.forecast import Forecast
from dermis.core.outcome.inputs import CONCERNS, OutcomePatient, make_treatment
from dermis.core.outcome.kinetics import improvement_pct
from dermis.core.outcome.model import OutcomeModel
from dermis.core.outcome.parameters import OutcomeParameters
from dermis.core.outcome.personalise import reference_patient

YEAR = 365.25
MONTH = YEAR / 12
SERIES3 = (0, 28, 56)  # alster2018: every 4-6 weeks; harris2015: median 3 sessions, 4 weeks
SERIES5 = (0, 28, 56, 84, 112)  # lotfi2013: 5 monthly sessions
SERIES6 = (0, 28, 56, 84, 112, 140)
FORTNIGHTLY6 = (0, 14, 28, 42, 56, 70)  # mohamedali2017, eldomyati2015: 6 sessions 2 weeks apart


@dataclass(frozen=True)
class Scenario:
    concern: str
    sessions: tuple[int, ...]
    horizon_days: int
    modality: str = "microneedling"
    device: str | None = None
    depth_mm: float | None = None
    tip: str | None = None


def with_maintenance(series: tuple[int, ...], every: int, years: float) -> tuple[int, ...]:
    last = series[-1]
    return series + tuple(range(last + every, last + int(years * YEAR), every))


@dataclass
class Evaluator:
    """Runs scenarios for one parameter set, with common random numbers (same seed each)."""

    params: OutcomeParameters
    n_draws: int = 400
    seed: int = 0
    patient: OutcomePatient | None = None
    _cache: dict[Scenario, tuple[OutcomeModel, Forecast]] = field(default_factory=dict)

    def model(self, sc: Scenario) -> OutcomeModel:
        return self._run(sc)[0]

    def forecast(self, sc: Scenario) -> Forecast:
        return self._run(sc)[1]

    def _run(self, sc: Scenario) -> tuple[OutcomeModel, Forecast]:
        if sc not in self._cache:
            patient = self.patient or reference_patient(self.params)
            treatment = make_treatment(sc.modality, sc.concern, sc.device, sc.depth_mm, sc.tip)
            model = OutcomeModel(self.params, self.n_draws, self.seed).fit(patient, treatment)
            self._cache[sc] = (model, model.predict(sc.horizon_days, sc.sessions))
        return self._cache[sc]

    @property
    def threshold(self) -> float:
        return float(self.params.noticeable_threshold_pct.value)


# ---- statistics of a forecast (interpolated between days so the calibration sees smooth changes)


def smooth_peak_day(f: Forecast) -> float:
    i = int(np.argmax(f.p50))
    if 0 < i < f.p50.size - 1:
        left, mid, right = f.p50[i - 1 : i + 2]
        curvature = left - 2 * mid + right
        if curvature < 0:
            return float(f.days[i] + 0.5 * (left - right) / curvature)
    return float(f.days[i])


def noticeable_until(f: Forecast, threshold: float) -> float:
    """Last (fractional) day the median is at or above the threshold; -inf if never."""
    above = np.nonzero(f.p50 >= threshold)[0]
    if not above.size:
        return -math.inf
    i = int(above[-1])
    if i + 1 >= f.p50.size:
        return float(f.days[i])
    return float(f.days[i] + (f.p50[i] - threshold) / (f.p50[i] - f.p50[i + 1]))


def first_loss_after_onset(f: Forecast, threshold: float, after_day: int) -> float:
    """First (fractional) day after `after_day` and after the median first reached the threshold
    on which it falls below it again; the horizon if it never does."""
    p50, days = f.p50, f.days
    reached = np.nonzero((days >= after_day) & (p50 >= threshold))[0]
    if not reached.size:
        return float(after_day)
    below = np.nonzero((days > days[reached[0]]) & (p50 < threshold))[0]
    if not below.size:
        return float(days[-1])
    j = int(below[0])
    return float(days[j - 1] + (p50[j - 1] - threshold) / (p50[j - 1] - p50[j]))


def p50_at(f: Forecast, day: float) -> float:
    return float(np.interp(day, f.days, f.p50))


def share_below(ev: Evaluator, sc: Scenario, day: int, pct: float) -> float:
    """Share of draws whose improvement on `day` is below pct.

    Counted with a smooth step (a normal CDF, 1 point wide) so the share moves continuously with
    the parameters, as the fit needs.
    """
    y = ev.model(sc).log_severity(sc.sessions, day, day + 1)
    return float(np.mean(ndtr(pct - improvement_pct(y[0]))))


# ---- the targets

LAXITY3 = Scenario("laxity", SERIES3, 56 + 4 * 365)
LAXITY6 = Scenario("laxity", SERIES6, 140 + 4 * 365)
LAXITY1 = Scenario("laxity", (0,), 3 * 365)
MAINT12 = Scenario("laxity", with_maintenance(SERIES3, 365, 16), 56 + 16 * 365)
MAINT6 = Scenario("laxity", with_maintenance(SERIES3, 182, 16), 56 + 16 * 365)
GLOW = Scenario("uneven_texture", (0,), 120, "microdermabrasion")
ROLLING = Scenario("acne_scars_rolling", SERIES3, 56 + 400, depth_mm=1.5)
BOXCAR = Scenario("acne_scars_boxcar", SERIES5, 112 + 60, device="dermaroller", depth_mm=1.5)
STRIAE_MN = Scenario("stretch_marks", FORTNIGHTLY6, 70 + 92, depth_mm=1.5)
STRIAE_MDA = Scenario("stretch_marks", FORTNIGHTLY6, 70 + 92, "microdermabrasion", "crystal")
SHIM_TEXTURE = Scenario("uneven_texture", FORTNIGHTLY6, 84, "microdermabrasion", "crystal")
SHIM_LINES = Scenario("fine_lines", FORTNIGHTLY6, 84, "microdermabrasion", "crystal")
ELDOMYATI = Scenario("fine_lines", FORTNIGHTLY6, 70 + 92)


def _never_worse(ev: Evaluator) -> float:
    """Smallest (treated - untreated) improvement over every draw and day, in points."""
    model = ev.model(MAINT12)
    treated = improvement_pct(model.log_severity(MAINT12.sessions, 0, MAINT12.horizon_days))
    untreated = improvement_pct(model.log_severity((), 0, MAINT12.horizon_days))
    return float(np.min(treated - untreated))


def _mn_beats_mda(ev: Evaluator) -> float:
    """Smallest margin (p50 points) of microneedling over microdermabrasion, across concerns."""
    margins = []
    for concern in CONCERNS:
        mn = ev.forecast(Scenario(concern, FORTNIGHTLY6, 70 + 92))
        mda = ev.forecast(Scenario(concern, FORTNIGHTLY6, 70 + 92, "microdermabrasion"))
        margins.append(p50_at(mn, 70 + 91) - p50_at(mda, 70 + 91))
    return min(margins)


def _depth(depth: float) -> Scenario:
    return Scenario("laxity", (0,), 365, depth_mm=depth)


def _tip(tip: str) -> Scenario:
    return Scenario("fine_lines", FORTNIGHTLY6, 70 + 92, "microdermabrasion", tip=tip)


def _difference(
    ev: Evaluator, a: Scenario, b: Scenario, stat: Callable[[Forecast], float]
) -> float:
    return stat(ev.forecast(a)) - stat(ev.forecast(b))


@dataclass(frozen=True)
class Target:
    id: str
    case: str
    citation: str
    claim: str
    statistic: Callable[[Evaluator], float]
    low: float
    high: float
    unit: str
    scale: float = 1.0  # for one-sided targets: the distance that counts as one half-width
    fitted: bool = True

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def loss(self, value: float) -> float:
        """A soft interval: 0.05 z^2 for centring, plus 10 (|z| - 0.9)^2 near and past the edges.

        The penalty starts a little inside the interval so that fitted values keep a margin.
        """
        if not math.isfinite(value):
            return 1e6
        if math.isfinite(self.low) and math.isfinite(self.high):
            mid, half = (self.low + self.high) / 2, (self.high - self.low) / 2
            z = abs(value - mid) / half
            return 0.05 * min(z, 1.0) ** 2 + 10.0 * max(0.0, z - 0.9) ** 2
        edge = self.low if math.isfinite(self.low) else self.high
        outside = (edge - value) if math.isfinite(self.low) else (value - edge)
        return 10.0 * (max(0.0, outside / self.scale + 0.1)) ** 2


T = Target
INF = math.inf
TARGETS: tuple[Target, ...] = (
    T("seeds_peak_1_3_months", "3 sessions, laxity", "seeds_permanence",
      "most dramatic improvement in months 1-3 after the series",
      lambda ev: smooth_peak_day(ev.forecast(LAXITY3)) - 56, MONTH, 3 * MONTH, "days after last"),
    T("seeds_reversal_3_12_months", "share of peak kept at 12 months", "seeds_permanence",
      "3-12 months: gradual reversal, still better than before",
      lambda ev: p50_at(ev.forecast(LAXITY3), 56 + YEAR) / float(np.max(ev.forecast(LAXITY3).p50)),
      0.5, 0.9, "ratio"),
    T("seeds_reversal_3_12_months", "noticeable at 12 months", "seeds_permanence",
      "skin remains noticeably tighter than pre-treatment at 12 months",
      lambda ev: p50_at(ev.forecast(LAXITY3), 56 + YEAR), 25.0, INF, "% p50", scale=5.0),
    T("seeds_single_session_6_12_months", "1 session, laxity", "seeds_permanence",
      "noticeable tightening 6 months to a year after a single session",
      lambda ev: noticeable_until(ev.forecast(LAXITY1), ev.threshold), YEAR / 2, YEAR, "days"),
    T("seeds_series_1_3_years", "3 sessions", "seeds_permanence",
      "without maintenance, 1-3 years of noticeable improvement after the series",
      lambda ev: (noticeable_until(ev.forecast(LAXITY3), ev.threshold) - 56) / YEAR,
      1.0, 3.0, "years after last"),
    T("seeds_series_1_3_years", "6 sessions", "seeds_permanence",
      "without maintenance, 1-3 years of noticeable improvement after the series",
      lambda ev: (noticeable_until(ev.forecast(LAXITY6), ev.threshold) - 140) / YEAR,
      1.0, 3.0, "years after last"),
    T("seeds_maintenance_5_10_years", "maintenance every 12 months", "seeds_permanence",
      "with maintenance every 6-12 months, 5-10 years before a new full series",
      lambda ev: (first_loss_after_onset(ev.forecast(MAINT12), ev.threshold, 56) - 56) / YEAR,
      5.0, 10.0, "years after last"),
    T("seeds_maintenance_5_10_years", "maintenance every 6 months", "seeds_permanence",
      "with maintenance every 6-12 months, 5-10 years or longer before a new full series",
      lambda ev: (first_loss_after_onset(ev.forecast(MAINT6), ev.threshold, 56) - 56) / YEAR,
      5.0, INF, "years after last", scale=1.0),
    T("seeds_mda_glow_temporary", "day 1", "seeds_permanence",
      "microdermabrasion: an instant improvement in texture after one session",
      lambda ev: p50_at(ev.forecast(GLOW), 1), 25.0, 50.0, "% p50"),
    T("seeds_mda_glow_temporary", "day 60", "seeds_permanence",
      "... that is temporary",
      lambda ev: p50_at(ev.forecast(GLOW), 60), -INF, 15.0, "% p50", scale=5.0),
    T("alster2020", "rolling scars, 3 months after 3 sessions", "alster2020",
      "every scar improved >= 50 % after a mean 2.5 sessions; most 50-75 % or more",
      lambda ev: p50_at(ev.forecast(ROLLING), 56 + 91), 55.0, 85.0, "% p50"),
    T("alster2020", "share below 50 % at 3 months", "alster2020",
      "every scar improved >= 50 % (population spread allowed up to a fifth)",
      lambda ev: share_below(ev, ROLLING, 56 + 91, 50.0), -INF, 0.2, "share", scale=0.05),
    T("alster2020", "rolling scars, 12 months", "alster2020",
      "improvement still rated at 12 months",
      lambda ev: p50_at(ev.forecast(ROLLING), 56 + 365), 50.0, INF, "% p50", scale=5.0),
    T("lotfi2013", "boxcar scars, 8 weeks after 5 sessions", "lotfi2013",
      "rolling/boxcar scars: 20 % excellent, 70 % good",
      lambda ev: p50_at(ev.forecast(BOXCAR), 112 + 56), 50.0, 75.0, "% p50"),
    T("mohamedali2017", "stretch marks, microneedling", "mohamedali2017",
      "40 % excellent, 27 % marked, 13 % moderate, 20 % minimal: median in 'marked'",
      lambda ev: p50_at(ev.forecast(STRIAE_MN), 70 + 91), 50.0, 75.0, "% p50"),
    T("mohamedali2017", "share below 25 %, microneedling", "mohamedali2017",
      "20 % minimal (3 of 15: 95 % interval 0.04-0.48)",
      lambda ev: share_below(ev, STRIAE_MN, 70 + 91, 25.0), 0.04, 0.48, "share"),
    T("mohamedali2017", "stretch marks, microdermabrasion", "mohamedali2017",
      "20 % marked, 27 % moderate, 40 % minimal: median below noticeable",
      lambda ev: p50_at(ev.forecast(STRIAE_MDA), 70 + 91), 5.0, 25.0, "% p50"),
    T("shim2001", "texture after a crystal series", "shim2001",
      "roughness improved",
      lambda ev: p50_at(ev.forecast(SHIM_TEXTURE), 84), 25.0, INF, "% p50", scale=5.0),
    T("shim2001", "fine lines after a crystal series", "shim2001",
      "wrinkles did not improve",
      lambda ev: p50_at(ev.forecast(SHIM_LINES), 84), -INF, 25.0, "% p50", scale=5.0),
    T("eldomyati2015", "fine lines, 1 and 3 months after 6 sessions", "eldomyati2015",
      "collagen I, III and new collagen up at both 1 and 3 months (the lower of the two)",
      lambda ev: min(p50_at(ev.forecast(ELDOMYATI), 70 + d) for d in (30, 91)),
      25.0, INF, "% p50", scale=5.0),
    T("seeds_never_worse", "every draw, every day, 16 years", "seeds_permanence",
      "a treated patient is never worse than the same patient untreated",
      _never_worse, -1e-3, INF, "points", fitted=False),  # float32 rounding allowed
    T("shape_microneedling_beats_microdermabrasion", "every concern, 6 sessions", "mohamedali2017",
      "microneedling > microdermabrasion for the same number of sessions",
      _mn_beats_mda, 1.0, INF, "p50 points", fitted=False),
    T("shape_deeper_larger", "laxity, 2.0 vs 0.5 mm", "drpen",
      "deeper within the safe range: a larger response",
      lambda ev: float(np.max(ev.forecast(_depth(2.0)).p50) - np.max(ev.forecast(_depth(0.5)).p50)),
      1.0, INF, "p50 points", fitted=False),
    T("shape_deeper_slower", "laxity, 2.0 vs 0.5 mm", "drpen",
      "deeper within the safe range: a slower response (later peak)",
      lambda ev: _difference(ev, _depth(2.0), _depth(0.5), smooth_peak_day),
      1.0, INF, "days", fitted=False),
    T("karimipour2009", "fine lines, coarse vs medium tip", "karimipour2009",
      "the coarse tip gives a collagen response, the medium tip hardly any",
      lambda ev: _difference(ev, _tip("coarse"), _tip("medium"), lambda f: p50_at(f, 70 + 91)),
      1.0, INF, "p50 points", fitted=False),
)  # fmt: skip

TARGET_IDS = frozenset(t.id for t in TARGETS)


def evaluate(ev: Evaluator, targets: tuple[Target, ...] = TARGETS) -> list[tuple[Target, float]]:
    return [(t, float(t.statistic(ev))) for t in targets]
