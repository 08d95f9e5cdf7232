"""Helpers shared by the outcome-model tests (imported by name: test files have no package)."""

from dermis.core.outcome import OutcomeModel

DRAWS = 400
SERIES3 = (0, 28, 56)


def fitted(patient, treatment, sessions=(), follow_ups=(), draws=DRAWS, seed=0):
    return OutcomeModel(n_draws=draws, seed=seed).fit(patient, treatment, sessions, follow_ups)
