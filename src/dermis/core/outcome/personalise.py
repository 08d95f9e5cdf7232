"""From parameters and a patient to the model's numbers: dose, kinetics, ageing clock, draws.

Also the conditioning on a patient's own follow-up grades (importance re-weighting of the draws).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dermis.core.errors import InputError
from dermis.core.outcome.inputs import OutcomePatient, Treatment, make_patient
from dermis.core.outcome.kinetics import F64, Draws, Kinetics
from dermis.core.outcome.parameters import OutcomeParameters
from dermis.core.outcome.special import expit, ndtr

_HOME_DEVICES = ("home_roller", "home_kit")


def reference_patient(params: OutcomeParameters) -> OutcomePatient:
    ref = params.reference_patient
    return make_patient(ref.age, ref.sex, ref.fitzpatrick, ref.sun, ref.smoker)


def _age_response(params: OutcomeParameters, age: float) -> float:
    slope = params.dose.age_response_slope.value
    return max(0.2, 1.0 - slope * max(0.0, age - 25.0))


def collagen_dose(
    params: OutcomeParameters, patient: OutcomePatient, treatment: Treatment
) -> float:
    """Median collagen dose of one session, in reference-session doses."""
    d = params.dose
    if treatment.modality == "microneedling":
        assert treatment.depth_mm is not None
        device = d.microneedling_device[treatment.device].value  # type: ignore[index]
        ratio = treatment.depth_mm / d.reference_depth_mm.value
        dose = device * ratio**d.depth_exponent.value
    else:
        key = (
            f"diamond_tip_{treatment.tip}"
            if treatment.device == "diamond_tip"
            else treatment.device
        )
        dose = d.microdermabrasion_collagen.value * d.microdermabrasion_device[key].value  # type: ignore[index]
    ref_age = params.reference_patient.age
    return dose * _age_response(params, patient.age) / _age_response(params, ref_age)


def _lifestyle(params: OutcomeParameters, patient: OutcomePatient) -> float:
    """Sun (weighted by phototype) times smoking: how much faster than the reference skin ages."""
    g = params.ageing
    sun = g.sun[patient.sun.value].value  # type: ignore[index]
    weight = g.phototype_sun_weight[patient.fitzpatrick.value].value  # type: ignore[index]
    smoke = g.smoker.value if patient.smoker else 1.0
    return (1.0 + (sun - 1.0) * weight) * smoke


def _depth_slowing(params: OutcomeParameters, treatment: Treatment) -> float:
    k, d = params.kinetics, params.dose
    if treatment.modality == "microneedling":
        assert treatment.depth_mm is not None
        depth = treatment.depth_mm
    else:
        depth = d.microdermabrasion_equivalent_depth_mm.value
    return float((depth / d.reference_depth_mm.value) ** -k.depth_slowing_exponent.value)


def patient_kinetics(
    params: OutcomeParameters, patient: OutcomePatient, treatment: Treatment
) -> Kinetics:
    """The constants shared by all draws of this patient and treatment."""
    k, d = params.kinetics, params.dose
    concern = params.concerns[treatment.concern]
    epi = d.epidermal_dose[treatment.modality].value  # type: ignore[index]
    if treatment.device in _HOME_DEVICES:
        epi *= d.home_device_epidermal_factor.value
    return Kinetics(
        inflammation_rate=k.inflammation_rate.value * _depth_slowing(params, treatment),
        epidermal_rate=k.epidermal_rate.value,
        dose=collagen_dose(params, patient, treatment),
        capacity=d.capacity.value,
        immature_visibility=k.immature_visibility.value,
        epidermal=epi * params.epidermal_efficacy.value * concern.epidermal_weight.value,
        ceiling=params.visible_ceiling_pct.value / 100.0,
    )


def ageing_rate(params: OutcomeParameters, patient: OutcomePatient, concern: str) -> float:
    """Median log-severity per year of the ageing clock (before menopause factors)."""
    return (
        params.ageing.base_rate.value
        * _lifestyle(params, patient)
        * params.concerns[concern].ageing_sensitivity.value
    )


def menopause_pace(params: OutcomeParameters, ages: F64) -> F64:
    """Pace of decline of women relative to adulthood, averaged over the age at menopause.

    x `menopause_factor` for `menopause_years` after menopause, x `post_menopause_factor` after;
    menopause ~ Normal(menopause_age, menopause_age_sd), so the pace rises smoothly with age.
    """
    g = params.ageing
    mu, sd, span = g.menopause_age.value, g.menopause_age_sd.value, g.menopause_years.value
    started = ndtr((ages - mu) / sd)
    past_window = ndtr((ages - span - mu) / sd)
    return (
        1.0
        + (g.menopause_factor.value - 1.0) * (started - past_window)
        + (g.post_menopause_factor.value - 1.0) * past_window
    )


def ageing_clock(params: OutcomeParameters, patient: OutcomePatient, n_days: int) -> F64:
    """Years of decline at the reference rate accumulated by day t, for t in [0, n_days)."""
    ages = patient.age + np.arange(n_days) / 365.25
    pace = menopause_pace(params, ages) if patient.sex == "f" else np.ones(n_days)
    clock = np.empty(n_days)
    clock[0] = 0.0
    np.cumsum(pace[:-1] / 365.25, out=clock[1:])
    return clock


def draw_population(
    params: OutcomeParameters,
    patient: OutcomePatient,
    treatment: Treatment,
    n: int,
    rng: np.random.Generator,
) -> Draws:
    """Monte Carlo draws of the patient population and of the uncertain parameters.

    Each draw is a patient (response, pace of remodelling, turnover, decline: log-normal, median 1;
    how much early collagen shows: logit-normal around `immature_visibility`, lower in the same
    patients who remodel slowly - late responders)
    seen through one plausible value of each uncertain population parameter (the concern's
    efficacy, turnover, remodelling pace, decline, microdermabrasion's dose), so the band widens
    where the evidence is thin.
    """
    v, u, k = params.variability, params.uncertainty, params.kinetics
    concern = params.concerns[treatment.concern]
    z = rng.standard_normal((9, n))
    mda_sd = u.microdermabrasion_sd_log.value if treatment.modality == "microdermabrasion" else 0.0
    response = np.exp(v.response_sd_log.value * z[0] + mda_sd * z[1])
    efficacy = (
        params.collagen_efficacy.value
        * concern.efficacy.value
        * np.exp(concern.efficacy_sd_log.value * z[2])
    )
    maturation = (
        k.maturation_rate.value
        * _depth_slowing(params, treatment)
        * concern.maturation_multiplier.value
        * np.exp(v.maturation_sd_log.value * z[3] + u.maturation_sd_log.value * z[4])
    )
    lifestyle = _lifestyle(params, patient) ** params.ageing.lifestyle_turnover_exponent.value
    turnover = (
        k.turnover_rate.value
        * concern.turnover_multiplier.value
        * lifestyle
        * np.exp(v.turnover_sd_log.value * z[5] + u.turnover_sd_log.value * z[6])
    )
    # new collagen matures before it is lost (and the closed form needs distinct rates)
    turnover = np.minimum(turnover, 0.5 * maturation)
    ageing = ageing_rate(params, patient, treatment.concern) * np.exp(
        v.ageing_sd_log.value * z[7] + u.ageing_sd_log.value * z[8]
    )
    # a late responder both remodels slowly and shows little of the early collagen: one draw
    w = params.kinetics.immature_visibility.value
    visibility = expit(np.log(w / (1.0 - w)) + v.visibility_sd_logit.value * z[3])
    return Draws(response, turnover, ageing, maturation, efficacy, visibility)


@dataclass(frozen=True)
class FollowUp:
    """A graded follow-up: the improvement seen on `day`, as a range in percent.

    An exact measurement has low == high; a quartile grade is a band (e.g. 50-75 %).
    """

    day: int
    low_pct: float
    high_pct: float

    @classmethod
    def measured(cls, day: int, pct: float) -> FollowUp:
        return cls(day, pct, pct)

    @classmethod
    def quartile_grade(cls, day: int, grade: str) -> FollowUp:
        """Grades of the quartile scale: none, minimal, moderate, marked, excellent."""
        bands = {
            "none": (-100.0, 0.0),
            "minimal": (0.0, 25.0),
            "moderate": (25.0, 50.0),
            "marked": (50.0, 75.0),
            "excellent": (75.0, 100.0),
        }
        if grade not in bands:
            raise InputError("grade", f"must be one of {', '.join(bands)}, got {grade!r}")
        return cls(day, *bands[grade])


def validate_follow_ups(follow_ups: Sequence[FollowUp]) -> tuple[FollowUp, ...]:
    for f in follow_ups:
        if f.day < 0:
            raise InputError("--observed", f"follow-up day cannot be negative ({f.day})")
        if not -100.0 <= f.low_pct <= f.high_pct <= 100.0:
            raise InputError(
                "--observed",
                f"improvement must be within -100..100 %, got {f.low_pct}..{f.high_pct}",
            )
    return tuple(sorted(follow_ups, key=lambda f: f.day))


def log_likelihood(predicted_pct: F64, follow_ups: Sequence[FollowUp], rater_sd: float) -> F64:
    """Log-likelihood of each draw given the follow-ups; predicted_pct has shape (k, n)."""
    from scipy.special import log_ndtr, ndtr  # only when grades condition the forecast

    total = np.zeros(predicted_pct.shape[1])
    for row, f in zip(predicted_pct, follow_ups, strict=True):
        if f.low_pct == f.high_pct:
            total += -0.5 * ((row - f.low_pct) / rater_sd) ** 2
        else:
            hi = ndtr((f.high_pct - row) / rater_sd)
            lo = ndtr((f.low_pct - row) / rater_sd)
            band = hi - lo
            # far outside the band the difference underflows: use the tail's log directly
            tail = np.maximum(
                log_ndtr((f.high_pct - row) / rater_sd), log_ndtr((row - f.low_pct) / rater_sd)
            )
            total += np.where(band > 1e-300, np.log(np.maximum(band, 1e-300)), tail)
    return total


def importance_resample(log_w: F64, n: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Systematic resampling of n indices by importance weights; returns (indices, ESS).

    The effective sample size is Kish's 1 / sum(w^2) over the pool, but never more than the number
    of distinct draws kept: resampling cannot create information.
    """
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    ess = float(1.0 / np.sum(w**2))
    positions = (rng.random() + np.arange(n)) / n
    index = np.minimum(np.searchsorted(np.cumsum(w), positions, side="left"), w.size - 1)
    return index, min(ess, float(np.unique(index).size))


def split_oedema(
    follow_ups: Sequence[FollowUp], sessions: Sequence[int], oedema_days: float
) -> tuple[tuple[FollowUp, ...], tuple[FollowUp, ...]]:
    """(usable, set aside): a grade 1..oedema_days-1 days after a session measures swelling.

    A grade on the day of a session is taken before it (the usual pre-session photo and grade).
    """
    usable, aside = [], []
    for f in follow_ups:
        swollen = any(0 < f.day - s < oedema_days for s in sessions)
        (aside if swollen else usable).append(f)
    return tuple(usable), tuple(aside)
