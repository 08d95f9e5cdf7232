"""Personas and shared fixtures for the outcome-model tests (modest draws keep the suite fast)."""

import pytest

from dermis.core.outcome import load_parameters, make_patient, make_treatment
from dermis.core.outcome.targets import Evaluator
from tests.core.outcome.outcome_personas import DRAWS


@pytest.fixture(scope="session")
def params():
    return load_parameters()


@pytest.fixture(scope="session")
def evaluator(params):
    """The calibration scenarios for the reference patient, computed once per session."""
    return Evaluator(params, n_draws=DRAWS, seed=0)


# Named personas. maria is the calibration's reference patient.
@pytest.fixture(scope="session")
def maria():
    return make_patient(45, "f", "III", "moderate", smoker=False)


@pytest.fixture(scope="session")
def tom():
    """Older, fair, sun-seeking smoker."""
    return make_patient(62, "m", "II", "high", smoker=True)


@pytest.fixture(scope="session")
def aiko():
    """Young, darker phototype, little sun."""
    return make_patient(30, "f", "V", "low", smoker=False)


@pytest.fixture(scope="session")
def laxity_pen():
    return make_treatment("microneedling", "laxity")
