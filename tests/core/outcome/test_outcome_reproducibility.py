"""Forecasts are seeded Monte Carlo: the same seed gives the same numbers."""

import numpy as np

from tests.core.outcome.outcome_personas import SERIES3, fitted


def test_same_seed_same_forecast(maria, laxity_pen):
    a = fitted(maria, laxity_pen, seed=7).predict(1000, SERIES3)
    b = fitted(maria, laxity_pen, seed=7).predict(1000, SERIES3)
    for band in ("p10", "p50", "p90"):
        np.testing.assert_array_equal(getattr(a, band), getattr(b, band))
    assert a.to_dict() == b.to_dict()


def test_another_seed_moves_the_bands_only_a_little(maria, laxity_pen):
    a = fitted(maria, laxity_pen, seed=1, draws=1000).predict(1000, SERIES3)
    b = fitted(maria, laxity_pen, seed=2, draws=1000).predict(1000, SERIES3)
    assert not np.array_equal(a.p50, b.p50)
    assert np.max(np.abs(a.p50 - b.p50)) < 4.0


def test_a_longer_horizon_does_not_change_the_shared_days(maria, laxity_pen):
    model = fitted(maria, laxity_pen)
    short, long = model.predict(400, SERIES3), model.predict(1500, SERIES3)
    np.testing.assert_allclose(short.p50, long.p50[:401], atol=1e-4)
