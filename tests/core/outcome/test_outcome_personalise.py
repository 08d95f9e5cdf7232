"""Conditioning on a patient's own follow-up grades shifts and narrows the forecast."""

import numpy as np

from dermis.core.outcome import FollowUp
from tests.core.outcome.outcome_personas import SERIES3, fitted

ONE_YEAR = 56 + 365


def _band(f, day):
    return f.p90[day] - f.p10[day]


def test_a_strong_responder_shifts_the_forecast_up_and_narrows_it(maria, laxity_pen):
    prior = fitted(maria, laxity_pen, SERIES3).predict(ONE_YEAR)
    observed = (
        FollowUp.measured(56 + 30, prior.p90[56 + 30]),
        FollowUp.measured(56 + 90, prior.p90[56 + 90]),
    )
    post = fitted(maria, laxity_pen, SERIES3, observed).predict(ONE_YEAR)
    assert post.p50[ONE_YEAR] > prior.p50[ONE_YEAR] + 10
    assert _band(post, ONE_YEAR) < 0.6 * _band(prior, ONE_YEAR)
    assert abs(post.p50[56 + 90] - observed[1].low_pct) < 6


def test_a_weak_responder_shifts_it_down(maria, laxity_pen):
    prior = fitted(maria, laxity_pen, SERIES3).predict(ONE_YEAR)
    observed = (FollowUp.measured(56 + 90, prior.p10[56 + 90]),)
    post = fitted(maria, laxity_pen, SERIES3, observed).predict(ONE_YEAR)
    assert post.p50[ONE_YEAR] < prior.p50[ONE_YEAR] - 10
    assert _band(post, ONE_YEAR) < _band(prior, ONE_YEAR)


def test_conditioning_recovers_a_hidden_patient(maria, laxity_pen):
    """Observe one draw of a larger population at 1 and 3 months; the forecast tracks it later."""
    truth_model = fitted(maria, laxity_pen, SERIES3, draws=50, seed=123)
    truth = truth_model.improvement(truth_model.log_severity(SERIES3, 0, ONE_YEAR + 1))[:, 7]
    observed = [FollowUp.measured(d, float(truth[d])) for d in (56 + 30, 56 + 90)]
    post = fitted(maria, laxity_pen, SERIES3, observed).predict(ONE_YEAR)
    assert post.p10[ONE_YEAR] - 3 <= truth[ONE_YEAR] <= post.p90[ONE_YEAR] + 3


def test_quartile_grades_work_like_measurements(maria, laxity_pen):
    prior = fitted(maria, laxity_pen, SERIES3).predict(ONE_YEAR)
    graded = (FollowUp.quartile_grade(56 + 90, "excellent"),)
    post = fitted(maria, laxity_pen, SERIES3, graded).predict(ONE_YEAR)
    assert post.p50[56 + 90] > 70
    assert post.p50[ONE_YEAR] > prior.p50[ONE_YEAR]
    assert np.all(post.p90 <= 100)


def test_effective_draws_are_reported_and_conditioning_is_reproducible(maria, laxity_pen):
    observed = (FollowUp.measured(120, 60.0),)
    a = fitted(maria, laxity_pen, SERIES3, observed)
    b = fitted(maria, laxity_pen, SERIES3, observed)
    assert 1 < a.effective_draws_ < a.n_draws * a.pool_factor
    np.testing.assert_array_equal(a.predict(400).p50, b.predict(400).p50)
    assert fitted(maria, laxity_pen, SERIES3).effective_draws_ == a.n_draws
