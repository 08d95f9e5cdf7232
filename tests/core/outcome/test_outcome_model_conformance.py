"""The model class follows the scikit-learn conventions and its closed form solves the ODEs."""

import numpy as np
import pytest

from dermis.core.outcome import NotFittedError, OutcomeModel, make_patient, make_treatment
from dermis.core.outcome.reference import log_severity_ivp
from tests.core.outcome.outcome_personas import SERIES3


def test_constructor_only_stores_its_arguments():
    model = OutcomeModel(n_draws=123, seed=4)
    assert vars(model) == model.get_params()
    assert model.get_params() == {"parameters": None, "n_draws": 123, "seed": 4, "pool_factor": 8}


def test_fitted_state_ends_in_underscore_and_fit_returns_self(maria, laxity_pen):
    model = OutcomeModel(n_draws=50)
    before = set(vars(model))
    assert model.fit(maria, laxity_pen, SERIES3) is model
    added = set(vars(model)) - before
    public = {name for name in added if not name.startswith("_")}
    assert public and all(name.endswith("_") for name in public)
    assert model.draws_.n == 50


def test_predict_before_fit_raises(laxity_pen):
    with pytest.raises(NotFittedError):
        OutcomeModel().predict(100, SERIES3)


def test_a_clone_from_get_params_predicts_the_same(maria, laxity_pen):
    a = OutcomeModel(n_draws=60, seed=3).fit(maria, laxity_pen)
    b = OutcomeModel(**a.get_params()).fit(maria, laxity_pen)
    np.testing.assert_array_equal(a.predict(300, SERIES3).p50, b.predict(300, SERIES3).p50)


def test_forecast_shape_and_landmarks(maria, laxity_pen):
    f = OutcomeModel(n_draws=100).fit(maria, laxity_pen).predict(900, SERIES3)
    assert f.days.tolist() == list(range(901))
    assert f.p10.shape == f.p50.shape == f.p90.shape == (901,)
    assert np.all(f.p10 <= f.p50 + 1e-9) and np.all(f.p50 <= f.p90 + 1e-9)
    assert f.p50[f.peak_day] == f.p50.max()
    until = f.noticeable_until_day
    assert f.p50[until] >= f.noticeable_threshold > f.p50[until + 1]


@pytest.mark.parametrize(
    ("modality", "concern", "device", "depth", "sessions"),
    [
        ("microneedling", "laxity", None, 1.0, (0, 28, 56, 400)),
        ("microneedling", "acne_scars_rolling", "dermaroller", 2.0, (0, 7, 14)),
        ("microdermabrasion", "uneven_texture", "crystal", None, (3, 17, 31, 45, 200)),
    ],
)
def test_closed_form_matches_solve_ivp(modality, concern, device, depth, sessions):
    patient = make_patient(52, "f", "IV", "high", smoker=True)
    model = OutcomeModel(n_draws=20, seed=5).fit(
        patient, make_treatment(modality, concern, device, depth)
    )
    horizon = 900
    closed = model.log_severity(sessions, 0, horizon + 1)[:, :4]
    subset = model.draws_.take(np.arange(4))
    ivp = log_severity_ivp(
        model.kinetics_, subset, sessions, horizon, model.clock(horizon + 1), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(closed, ivp, atol=2e-6)


def test_evaluating_a_window_from_a_saved_state_matches_the_full_run(maria, laxity_pen):
    model = OutcomeModel(n_draws=40).fit(maria, laxity_pen)
    full = model.log_severity((*SERIES3, 300), 0, 800)
    state = model.state_after(SERIES3)
    window = model.log_severity((300,), 200, 800, state)
    np.testing.assert_allclose(window, full[200:], atol=1e-6)
