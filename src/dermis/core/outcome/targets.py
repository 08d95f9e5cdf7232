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


def p90_at(f: Forecast, day: float) -> float:
    return float(np.interp(day, f.days, f.p90))


def share_below(ev: Evaluator, sc: Scenario, day: int, pct: float) -> float:
    """Share of draws whose improvement on `day` is below pct.

    Counted with a smooth step (a normal CDF, 1 point wide) so the share moves continuously with
    the parameters, as the fit needs.
    """
    model = ev.model(sc)
    y = model.log_severity(sc.sessions, day, day + 1)
    return float(np.mean(ndtr(pct - model.improvement(y[0]))))


# ---- the targets' scenarios (reference patient; automated pen unless said)

LAXITY3 = Scenario("laxity", SERIES3, 56 + 4 * 365)
LAXITY6 = Scenario("laxity", SERIES6, 140 + 4 * 365)
LAXITY1 = Scenario("laxity", (0,), 3 * 365)
MAINT12 = Scenario("laxity", with_maintenance(SERIES3, 365, 16), 56 + 16 * 365)
MAINT6 = Scenario("laxity", with_maintenance(SERIES3, 182, 16), 56 + 16 * 365)
GLOW = Scenario("uneven_texture", (0,), 120, "microdermabrasion")
MONTHLY4 = (0, 30, 60, 90)  # dalwig2020, alqam2022: 4 sessions 30 days apart
ROLLING = Scenario("acne_scars_rolling", SERIES3, 56 + 400, depth_mm=1.5)
DALWIG = Scenario("acne_scars_rolling", MONTHLY4, 90 + 92, depth_mm=1.5)
DALWIG_BOXCAR = Scenario("acne_scars_boxcar", MONTHLY4, 90 + 92, depth_mm=1.5)
MAJID = Scenario("acne_scars_rolling", SERIES3, 56 + 61, device="dermaroller", depth_mm=1.5)
BOXCAR = Scenario("acne_scars_boxcar", SERIES5, 112 + 60, device="dermaroller", depth_mm=1.5)
ALQAM = Scenario("fine_lines", MONTHLY4, 90 + 92)
STRIAE_MN = Scenario("stretch_marks", FORTNIGHTLY6, 70 + 92, depth_mm=1.5)
STRIAE_MDA = Scenario("stretch_marks", FORTNIGHTLY6, 70 + 92, "microdermabrasion", "crystal")
SHIM_TEXTURE = Scenario("uneven_texture", FORTNIGHTLY6, 84, "microdermabrasion", "crystal")
SHIM_LINES = Scenario("fine_lines", FORTNIGHTLY6, 84, "microdermabrasion", "crystal")
ELDOMYATI = Scenario("fine_lines", FORTNIGHTLY6, 92)  # biopsies 1 and 3 months from the start
WEEKLY6 = tuple(range(0, 42, 7))
TAN = Scenario("fine_lines", WEEKLY6, 35 + 30, "microdermabrasion", "crystal")
WEEKLY8_LINES = Scenario("fine_lines", tuple(range(0, 56, 7)), 365, "microdermabrasion", "crystal")


def _never_worse(ev: Evaluator) -> float:
    """Smallest (treated - untreated) improvement over every draw and day, in points."""
    model = ev.model(MAINT12)
    treated = model.improvement(model.log_severity(MAINT12.sessions, 0, MAINT12.horizon_days))
    untreated = model.improvement(model.log_severity((), 0, MAINT12.horizon_days))
    return float(np.min(treated - untreated))


def _mn_beats_mda(ev: Evaluator) -> float:
    """Smallest margin (p50 points) of microneedling over microdermabrasion, across concerns."""
    margins = []
    for concern in CONCERNS:
        mn = ev.forecast(Scenario(concern, FORTNIGHTLY6, 70 + 92))
        mda = ev.forecast(Scenario(concern, FORTNIGHTLY6, 70 + 92, "microdermabrasion"))
        margins.append(p50_at(mn, 70 + 91) - p50_at(mda, 70 + 91))
    return min(margins)


def _monthly(n: int, concern: str = "acne_scars_rolling", depth: float = 1.5) -> Scenario:
    sessions = tuple(28 * i for i in range(n))
    return Scenario(concern, sessions, sessions[-1] + 92, depth_mm=depth)


def _dose_response(ev: Evaluator) -> float:
    """Smallest gain (p50 points, 3 months after the last) of one more monthly session, 1..6."""
    values = [p50_at(ev.forecast(sc), sc.horizon_days - 1) for sc in map(_monthly, range(1, 7))]
    return float(np.min(np.diff(values)))


def _five_vs_one(ev: Evaluator) -> float:
    """p50 a month after 5 monthly sessions over p50 a month after 1 session (rolling scars)."""
    five, one = _monthly(5), _monthly(1)
    return p50_at(ev.forecast(five), 112 + 30) / p50_at(ev.forecast(one), 30)


def _max_p90(ev: Evaluator) -> float:
    """Highest p90 of any concern within 2 years: 6 monthly sessions at 1.5 mm, or 8 weekly
    crystal microdermabrasion sessions."""
    highest = []
    for concern in CONCERNS:
        mn = Scenario(concern, SERIES6, 2 * 365, depth_mm=1.5)
        mda = Scenario(concern, tuple(range(0, 56, 7)), 2 * 365, "microdermabrasion", "crystal")
        highest += [float(np.max(ev.forecast(mn).p90)), float(np.max(ev.forecast(mda).p90))]
    return max(highest)


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
    centre: float | None = None  # the observed value, when it is not the interval's middle

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
            centre = mid if self.centre is None else self.centre
            side = (centre - self.low) if value < centre else (self.high - centre)
            zc = abs(value - centre) / side
            return 0.05 * min(zc, 1.0) ** 2 + 10.0 * max(0.0, z - 0.9) ** 2
        edge = self.low if math.isfinite(self.low) else self.high
        outside = (edge - value) if math.isfinite(self.low) else (value - edge)
        return 10.0 * (max(0.0, outside / self.scale + 0.1)) ** 2


T = Target
INF = math.inf
TARGETS: tuple[Target, ...] = (
    # -- the source texts' timeline (evidence §10): laxity, reference patient, pen at 1.0 mm
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
    # -- acne scars (1.5 mm, harris2015's median depth)
    T("dalwig2020", "rolling, 3 months after 4 sessions", "dalwig2020",
      "rolling scars -1.06 Goodman & Baron grade from about 3: about 35 %",
      lambda ev: p50_at(ev.forecast(DALWIG), 90 + 91), 27.0, 40.0, "% p50"),
    T("dalwig2020", "boxcar, 3 months after 4 sessions", "dalwig2020",
      "atrophic scars -0.91 grade (CI 0.78-1.05) from about 3: 26-35 %",
      lambda ev: p50_at(ev.forecast(DALWIG_BOXCAR), 90 + 91), 22.0, 38.0, "% p50"),
    T("majid2009", "2 months after 3 monthly sessions", "majid2009",
      "34 of 36 improved by 1-2 grades of four",
      lambda ev: p50_at(ev.forecast(MAJID), 56 + 60), 25.0, 55.0, "% p50"),
    T("majid2009", "share below half a grade", "majid2009",
      "2 of 36 did not improve by a grade (95 % upper bound about 0.2)",
      lambda ev: share_below(ev, MAJID, 56 + 60, 12.5), 0.0, 0.2, "share", centre=2 / 36),
    T("majid2009", "share above three grades", "majid2009",
      "none improved by more than 2 grades of four (0 of 36: 95 % upper bound 0.08)",
      lambda ev: 1.0 - share_below(ev, MAJID, 56 + 60, 75.0), -INF, 0.08, "share", scale=0.02),
    T("lotfi2013", "boxcar, 8 weeks after 5 sessions", "lotfi2013",
      "rolling/boxcar scars: 20 % excellent, 70 % good (one to two grades)",
      lambda ev: p50_at(ev.forecast(BOXCAR), 112 + 56), 30.0, 60.0, "% p50"),
    T("lotfi2013", "share below half a grade", "lotfi2013",
      "90 % good or excellent",
      lambda ev: share_below(ev, BOXCAR, 112 + 56, 12.5), 0.0, 0.2, "share", centre=0.1),
    T("alster2020", "rolling, 3 months after 3 sessions", "alster2020",
      "an upper bound, not the centre (65 % > 75 %): the median stays below its 62.5 %",
      lambda ev: p50_at(ev.forecast(ROLLING), 56 + 91), -INF, 62.5, "% p50", scale=5.0),
    T("alster2020", "best tenth, 3 months after 3 sessions", "alster2020",
      "every scar improved >= 50 %: the best responders reach its band",
      lambda ev: p90_at(ev.forecast(ROLLING), 56 + 91), 50.0, INF, "% p90", scale=5.0),
    T("alster2020", "rolling, 12 vs 3 months", "alster2020",
      "improvement still rated at 12 months",
      lambda ev: p50_at(ev.forecast(ROLLING), 56 + 365) / p50_at(ev.forecast(ROLLING), 56 + 91),
      0.75, INF, "ratio", scale=0.05),
    # -- stretch marks, photoageing, microdermabrasion
    T("mohamedali2017", "stretch marks, microneedling", "mohamedali2017",
      "40 % excellent, 27 % marked, 13 % moderate, 20 % minimal: median in 'marked'",
      lambda ev: p50_at(ev.forecast(STRIAE_MN), 70 + 91), 50.0, 75.0, "% p50"),
    T("mohamedali2017", "share below 25 %, microneedling", "mohamedali2017",
      "20 % minimal (3 of 15: 95 % interval 0.04-0.48)",
      lambda ev: share_below(ev, STRIAE_MN, 70 + 91, 25.0), 0.04, 0.48, "share", centre=0.2),
    T("mohamedali2017", "stretch marks, microdermabrasion", "mohamedali2017",
      "20 % marked, 27 % moderate, 40 % minimal: median below noticeable",
      lambda ev: p50_at(ev.forecast(STRIAE_MDA), 70 + 91), 5.0, 25.0, "% p50"),
    T("alqam2022", "fine lines, 90 days after 4 sessions", "alqam2022",
      "neck wrinkle score -25.9 % at 90 days after the last session",
      lambda ev: p50_at(ev.forecast(ALQAM), 90 + 90), 20.0, 32.0, "% p50"),
    T("alqam2022", "3 vs 1 month after", "alqam2022",
      "73 % vs 69 % of subjects improved at 1 vs 3 months after: about level",
      lambda ev: p50_at(ev.forecast(ALQAM), 90 + 91) / p50_at(ev.forecast(ALQAM), 90 + 30),
      0.85, 1.2, "ratio"),
    T("eldomyati2015", "fine lines, 1 month from the start", "eldomyati2015",
      "new collagen already raised 1 month from the start of 6 fortnightly sessions",
      lambda ev: p50_at(ev.forecast(ELDOMYATI), 30), 3.0, INF, "% p50", scale=1.0),
    T("eldomyati2015", "3 vs 1 month from the start", "eldomyati2015",
      "... and higher at 3 months (just after the series)",
      lambda ev: p50_at(ev.forecast(ELDOMYATI), 91) - p50_at(ev.forecast(ELDOMYATI), 30),
      2.0, INF, "p50 points", scale=1.0),
    T("shim2001", "texture a week after a crystal series", "shim2001",
      "roughness improved (significant, self-rated, 14 patients)",
      lambda ev: p50_at(ev.forecast(SHIM_TEXTURE), 77), 10.0, INF, "% p50", scale=3.0),
    T("shim2001", "fine lines a week after a crystal series", "shim2001",
      "rhytides did not improve (less than half a grade)",
      lambda ev: p50_at(ev.forecast(SHIM_LINES), 77), -INF, 12.5, "% p50", scale=3.0),
    T("tan2001", "fine lines, weekly crystal x6", "tan2001",
      "the flattening right after treatment did not last beyond a week",
      lambda ev: p50_at(ev.forecast(TAN), 35 + 8) / max(p50_at(ev.forecast(TAN), 35 + 1), 1e-6),
      -INF, 0.5, "ratio", scale=0.1),
    # -- structural checks: shapes the evidence agrees on, whatever the values
    T("seeds_never_worse", "every draw, every day, 16 years", "seeds_permanence",
      "a treated patient is never worse than the same patient untreated",
      _never_worse, -1e-3, INF, "points", fitted=False),  # float32 rounding allowed
    T("shape_dose_response", "rolling, 1..6 monthly sessions", "literature_shapes",
      "each session adds visible improvement (smaller later, never stopping)",
      _dose_response, 1.0, INF, "p50 points", fitted=False),
    T("shape_five_beat_one", "rolling, a month after 5 vs 1", "literature_shapes",
      "a 5-session series clearly beats a single session",
      _five_vs_one, 1.5, INF, "ratio", fitted=False),
    T("shape_scars_keep_remodelling", "rolling, 3 vs 1 month after 4", "literature_shapes",
      "scar scores keep improving 1-3 months after a series",
      lambda ev: p50_at(ev.forecast(DALWIG), 90 + 91) - p50_at(ev.forecast(DALWIG), 90 + 30),
      2.0, INF, "p50 points", fitted=False),
    T("shape_weekly_mda_not_dermal", "fine lines, 8 weekly crystal", "literature_shapes",
      "the glow does not add up to a dermal result: never noticeable",
      lambda ev: float(np.max(ev.forecast(WEEKLY8_LINES).p50)), -INF, 25.0, "% p50",
      fitted=False),
    T("shape_p90_below_95", "every concern, both modalities", "literature_shapes",
      "no series reports near-complete clearance: p90 below 95 %",
      _max_p90, -INF, 95.0, "% p90", fitted=False),
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
