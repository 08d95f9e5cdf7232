"""The outcome model: how a patient's result develops and fades, with uncertainty.

See docs/outcome-model.md for the equations, the parameters and their sources.
"""

from dermis.core.outcome.forecast import PATIENT_SENTENCE, Forecast
from dermis.core.outcome.inputs import (
    CONCERNS,
    MODALITIES,
    OutcomePatient,
    Treatment,
    make_patient,
    make_treatment,
)
from dermis.core.outcome.model import NotFittedError, OutcomeModel
from dermis.core.outcome.parameters import OutcomeParameters, load_parameters
from dermis.core.outcome.personalise import FollowUp

__all__ = [
    "CONCERNS",
    "MODALITIES",
    "PATIENT_SENTENCE",
    "FollowUp",
    "Forecast",
    "NotFittedError",
    "OutcomeModel",
    "OutcomeParameters",
    "OutcomePatient",
    "Treatment",
    "load_parameters",
    "make_patient",
    "make_treatment",
]
