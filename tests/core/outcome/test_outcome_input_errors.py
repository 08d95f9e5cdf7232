"""Bad input raises InputError naming the CLI option, with a message that says what to fix."""

import pytest

from dermis.core.errors import InputError
from dermis.core.outcome import OutcomeModel, make_patient, make_treatment
from dermis.core.outcome.inputs import validate_horizon, validate_sessions


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"depth_mm": -0.5}, "--depth-mm", "between 0.25 and 2.5"),
        ({"depth_mm": 0}, "--depth-mm", "between"),
        ({"depth_mm": 3.0}, "--depth-mm", "automated_pen"),
        ({"device": "dermaroller", "depth_mm": 2.2}, "--depth-mm", "between 0.25 and 2"),
        ({"device": "home_roller", "depth_mm": 0.5}, "--depth-mm", "at most 0.25"),
        ({"depth_mm": float("nan")}, "--depth-mm", "between"),
        ({"modality": "microdermabrasion", "depth_mm": 0.5}, "--depth-mm", "microdermabrasion"),
        ({"concern": "wrinkles"}, "--concern", "unknown concern"),
        ({"modality": "laser"}, "--modality", "microneedling"),
        ({"device": "crystal"}, "--device", "not a microneedling device"),
        ({"tip": "coarse"}, "--tip", "microdermabrasion"),
        (
            {"modality": "microdermabrasion", "device": "crystal", "tip": "coarse"},
            "--tip",
            "diamond_tip",
        ),
    ],
)
def test_treatment_errors(kwargs, field, words):
    args = {"modality": "microneedling", "concern": "laxity", **kwargs}
    with pytest.raises(InputError) as err:
        make_treatment(**args)
    assert err.value.field == field
    assert words in err.value.message


def test_defaults_are_filled_in():
    mn = make_treatment("microneedling", "laxity")
    assert (mn.device, mn.depth_mm, mn.tip) == ("automated_pen", 1.0, None)
    mda = make_treatment("microdermabrasion", "laxity")
    assert (mda.device, mda.depth_mm, mda.tip) == ("diamond_tip", None, "medium")
    assert make_treatment("microneedling", "laxity", "home_roller").depth_mm == 0.25


@pytest.mark.parametrize(
    ("sessions", "words"),
    [
        ([28, 0], "increasing order"),
        ([0, 28, 28], "increasing order"),
        ([-7, 0], "negative"),
        ([], "at least one"),
        ([0.5], "whole numbers"),
    ],
)
def test_session_errors(sessions, words):
    with pytest.raises(InputError) as err:
        validate_sessions(sessions)
    assert err.value.field == "--sessions"
    assert words in err.value.message


@pytest.mark.parametrize("horizon", [0, -30])
def test_horizon_must_be_positive(horizon):
    with pytest.raises(InputError) as err:
        validate_horizon(horizon)
    assert err.value.field == "--horizon-days"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"age": 12}, "--age"), ({"sex": "q"}, "--sex"), ({"fitzpatrick": "VII"}, "--fitzpatrick"),
     ({"sun": "extreme"}, "--sun")],
)  # fmt: skip
def test_patient_errors(kwargs, field):
    with pytest.raises(InputError) as err:
        make_patient(**{"age": 45, **kwargs})
    assert err.value.field == field


def test_too_few_draws_and_a_negative_seed_are_rejected():
    patient, treatment = make_patient(45), make_treatment("microneedling", "laxity")
    with pytest.raises(InputError) as err:
        OutcomeModel(n_draws=5).fit(patient, treatment)
    assert err.value.field == "--draws"
    with pytest.raises(InputError) as err:
        OutcomeModel(seed=-1).fit(patient, treatment)
    assert err.value.field == "--seed"
