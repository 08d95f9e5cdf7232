"""Follow-up grades personalise sensibly: swelling is set aside, late responders and fast faders
are representable, and the effective sample size is honest."""

import numpy as np

from dermis.core.outcome import FollowUp
from tests.core.outcome.outcome_personas import SERIES3, fitted

LAST = SERIES3[-1]
ONE_YEAR = LAST + 365


def test_a_grade_within_14_days_of_a_session_is_set_aside_and_said(maria, laxity_pen):
    prior = fitted(maria, laxity_pen, SERIES3)
    swollen = fitted(maria, laxity_pen, SERIES3, (FollowUp.measured(LAST + 3, 80.0),))
    assert swollen.set_aside_ and not swollen.follow_ups_
    f, p = swollen.predict(ONE_YEAR), prior.predict(ONE_YEAR)
    np.testing.assert_array_equal(f.p50, p.p50)  # the day-3 grade no longer doubles the forecast
    assert any("swelling" in note for note in f.notes)
    assert "swelling" in " ".join(f.to_dict()["notes"])


def test_a_grade_after_the_oedema_window_is_used(maria, laxity_pen):
    model = fitted(maria, laxity_pen, SERIES3, (FollowUp.measured(LAST + 20, 80.0),))
    assert model.follow_ups_ and not model.set_aside_


def test_a_grade_on_a_session_day_counts_as_taken_before_it(maria, laxity_pen):
    model = fitted(maria, laxity_pen, SERIES3, (FollowUp.measured(28, 20.0),))
    assert model.follow_ups_ and not model.set_aside_


def _quantile(model, day, q):
    return float(np.percentile(model.simulate(day)[day], q * 100))


def test_a_late_responder_is_representable(maria, laxity_pen):
    """Below typical at 1 month after the series, then better at each grade up to 30 % more at 5
    months, while the typical patient has begun to fade: the posterior rises with the patient."""
    prior = fitted(maria, laxity_pen, SERIES3, draws=2000)
    early = _quantile(prior, LAST + 30, 0.25)
    rise = ((30, 1.0), (60, 1.12), (90, 1.2), (120, 1.27), (150, 1.3))
    seen = tuple(FollowUp.measured(LAST + d, k * early) for d, k in rise)
    post = fitted(maria, laxity_pen, SERIES3, seen, draws=1000).predict(ONE_YEAR)
    typical = prior.predict(ONE_YEAR)
    typical_change = typical.p50[LAST + 120] - typical.p50[LAST + 30]
    own_change = post.p50[LAST + 120] - post.p50[LAST + 30]
    assert typical_change < 0 < own_change
    assert own_change > typical_change + 2
    for f in seen:
        assert abs(post.p50[f.day] - f.low_pct) < 8, (f, post.p50[f.day])
    assert post.effective_draws >= 20


def test_a_fast_fader_is_representable(maria, laxity_pen):
    """Typical at 1 month after, then down to 45 % of it at 9 months: the forecast falls with it."""
    prior = fitted(maria, laxity_pen, SERIES3, draws=2000)
    typical = _quantile(prior, LAST + 30, 0.5)
    seen = (FollowUp.measured(LAST + 30, typical), FollowUp.measured(LAST + 270, 0.45 * typical))
    post = fitted(maria, laxity_pen, SERIES3, seen, draws=1000).predict(ONE_YEAR + 365)
    for f in seen:
        assert abs(post.p50[f.day] - f.low_pct) < 8, (f, post.p50[f.day])
    later = ONE_YEAR + 365
    assert post.p50[later] < 0.6 * _quantile(prior, later, 0.5)
    assert post.effective_draws >= 20


def test_effective_draws_never_exceed_the_draws(maria, laxity_pen):
    graded = (
        (FollowUp.measured(LAST + 60, 40.0),),
        (FollowUp.quartile_grade(LAST + 60, "moderate"),),
    )
    for seen in graded:
        model = fitted(maria, laxity_pen, SERIES3, seen)
        assert 1 <= model.effective_draws_ <= model.n_draws
        assert model.predict(400).to_dict()["effective_draws"] <= model.n_draws
    assert (
        fitted(maria, laxity_pen, SERIES3).effective_draws_
        == fitted(maria, laxity_pen, SERIES3).n_draws
    )
