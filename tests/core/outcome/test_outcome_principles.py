"""The shapes the acne-scar and photoageing literature agree on (evidence §11), and the patient
factors acting where they should."""

from itertools import pairwise

import numpy as np
import pytest

from dermis.core.outcome import CONCERNS, make_patient, make_treatment
from dermis.core.outcome.parameters import load_parameters, with_values
from tests.core.outcome.outcome_personas import fitted

MONTH = 30


def monthly(n, gap=28):
    return tuple(gap * i for i in range(n))


@pytest.mark.parametrize(("concern", "depth"), [("acne_scars_rolling", 1.5), ("laxity", 1.0)])
def test_dose_response_every_session_of_1_to_6_adds(maria, concern, depth):
    model = fitted(maria, make_treatment("microneedling", concern, depth_mm=depth), draws=1000)
    values = []
    for n in range(1, 7):
        series = monthly(n)
        day = series[-1] + 91
        values.append(model.predict(day, series).p50[day])
    gains = np.diff(values)
    assert np.all(gains >= 1.0), values  # each session adds ...
    assert gains[-1] < gains[0], values  # ... less later in the series


def test_scars_keep_improving_1_to_3_months_after_a_series(maria):
    model = fitted(maria, make_treatment("microneedling", "acne_scars_rolling", depth_mm=1.5))
    series = monthly(4, 30)
    f = model.predict(series[-1] + 92, series)
    last = series[-1]
    assert f.p50[last + 91] > f.p50[last + 30] + 2
    assert f.p50[last + 60] > f.p50[last + 30]


def test_laxity_still_peaks_1_to_3_months_after_and_reverses_gradually(maria, laxity_pen):
    f = fitted(maria, laxity_pen, draws=1000).predict(56 + 400, (0, 28, 56))
    assert 30 <= f.peak_day - 56 <= 91
    assert f.p50[56 + 365] < f.p50.max()


def test_weekly_microdermabrasion_never_makes_fine_lines_noticeable(maria):
    for weeks in (6, 8, 12):
        sessions = tuple(range(0, 7 * weeks, 7))
        crystal = make_treatment("microdermabrasion", "fine_lines", "crystal")
        f = fitted(maria, crystal, draws=1000).predict(365, sessions)
        assert f.p50.max() < 25, weeks


def test_the_glow_does_not_stack_week_after_week(maria):
    """The surface response of 12 weekly sessions is no larger than that of one."""
    texture = make_treatment("microdermabrasion", "uneven_texture", "crystal")
    model = fitted(maria, texture, draws=1000)
    one = model.predict(2, (0,)).p50[1]
    twelve = model.predict(78, tuple(range(0, 84, 7))).p50[78]
    assert twelve < one + 10


@pytest.mark.parametrize("modality", ["microneedling", "microdermabrasion"])
def test_p90_stays_below_95_for_every_concern(maria, modality):
    for concern in CONCERNS:
        if modality == "microneedling":
            treatment, sessions = make_treatment(modality, concern, depth_mm=2.0), monthly(8)
        else:
            treatment = make_treatment(modality, concern, "diamond_tip", tip="coarse")
            sessions = tuple(range(0, 84, 7))
        f = fitted(maria, treatment, draws=1000).predict(sessions[-1] + 730, sessions)
        assert f.p90.max() < 95, concern


@pytest.mark.parametrize(("concern", "depth"), [("acne_scars_rolling", 1.5), ("laxity", 1.0)])
def test_a_five_session_series_clearly_beats_one_session_a_month_later(maria, concern, depth):
    model = fitted(maria, make_treatment("microneedling", concern, depth_mm=depth), draws=1000)
    one = model.predict(MONTH, (0,)).p50[MONTH]
    five_series = monthly(5)
    five = model.predict(five_series[-1] + MONTH, five_series).p50[five_series[-1] + MONTH]
    assert five >= 1.5 * one and five >= one + 10, (one, five)


def test_parameter_uncertainty_widens_the_band_years_out(maria, laxity_pen):
    params = load_parameters()
    certain = with_values(
        params,
        {
            "uncertainty.turnover_sd_log": 0.0,
            "uncertainty.maturation_sd_log": 0.0,
            "uncertainty.ageing_sd_log": 0.0,
            "concerns.laxity.efficacy_sd_log": 0.0,
        },
    )
    from dermis.core.outcome import OutcomeModel

    end = 56 + 3 * 365
    wide = OutcomeModel(params, 2000).fit(maria, laxity_pen).predict(end, (0, 28, 56))
    narrow = OutcomeModel(certain, 2000).fit(maria, laxity_pen).predict(end, (0, 28, 56))

    def extra(day):
        return (wide.p90[day] - wide.p10[day]) - (narrow.p90[day] - narrow.p10[day])

    peak = wide.peak_day
    assert extra(56 + 730) > extra(peak) + 1.5 and extra(end) > extra(peak) + 1.5


def test_a_concern_without_a_trial_gets_a_relatively_wider_band(maria):
    def spread(concern):
        f = fitted(maria, make_treatment("microneedling", concern, depth_mm=1.5), draws=2000)
        f = f.predict(400, monthly(4))
        day = f.peak_day
        return (f.p90[day] - f.p10[day]) / f.p50[day]  # width relative to the typical result

    assert spread("acne_scars_icepick") > 1.1 * spread("acne_scars_rolling")
    # the efficacy's parameter uncertainty is what differs
    params = load_parameters()
    assert (
        params.concerns["acne_scars_icepick"].efficacy_sd_log.value
        > params.concerns["acne_scars_rolling"].efficacy_sd_log.value
    )


def test_sun_and_smoking_speed_the_loss_of_the_new_collagen(laxity_pen):
    """Not only the background: the gain over the untreated patient fades faster too."""

    def gain_kept(patient):
        model = fitted(patient, laxity_pen, draws=1000)
        series = (0, 28, 56)
        treated = model.improvement(model.log_severity(series, 0, 56 + 731))
        untreated = model.improvement(model.log_severity((), 0, 56 + 731))
        gain = np.median(treated - untreated, axis=1)
        return gain[56 + 730] / gain.max()

    reference = gain_kept(make_patient(45, "m", "III", "moderate"))
    exposed = gain_kept(make_patient(45, "m", "I", "high", smoker=True))
    assert exposed < reference - 0.1


def test_high_sun_smoker_fair_skin_loses_noticeable_markedly_sooner(laxity_pen):
    def lasts(patient):
        f = fitted(patient, laxity_pen, draws=1000).predict(1500, (0, 28, 56))
        return f.noticeable_until_day

    reference = lasts(make_patient(45, "m", "III", "moderate"))
    exposed = lasts(make_patient(45, "m", "I", "high", smoker=True))
    assert exposed < 0.8 * reference


def test_no_menopause_artefact_older_women_do_not_keep_results_longer(laxity_pen):
    def lasts(age):
        f = fitted(make_patient(age, "f"), laxity_pen, draws=1000).predict(1800, (0, 28, 56))
        return f.noticeable_until_day or 0

    durations = [lasts(age) for age in (45, 50, 55, 60, 65)]
    assert all(b <= a for a, b in pairwise(durations)), durations
