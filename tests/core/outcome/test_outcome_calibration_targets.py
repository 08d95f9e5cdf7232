"""Each calibration target (evidence and source-text claims, and the shape checks) is a test."""

import pytest

from dermis.core.outcome.calibrate import BLOCKS
from dermis.core.outcome.parameters import iter_params
from dermis.core.outcome.targets import TARGET_IDS, TARGETS


@pytest.mark.parametrize("target", TARGETS, ids=[f"{t.id}[{t.case}]" for t in TARGETS])
def test_target_is_met(evaluator, target):
    value = target.statistic(evaluator)
    assert target.contains(value), (
        f"{target.claim}: got {value:.4g} {target.unit}, allowed {target.low}..{target.high}"
    )


def test_every_fitted_parameter_names_targets_that_exist_and_fit_it(params):
    fitted_in = {name: ids for names, ids in BLOCKS for name in names}
    fitted = [(name, p) for name, p in iter_params(params) if p.basis == "fitted"]
    assert fitted, "the model has fitted parameters"
    for name, param in fitted:
        assert set(param.calibrated_to) <= TARGET_IDS, name
        assert name in fitted_in, f"{name} is marked fitted but no calibration block fits it"
        assert set(param.calibrated_to) <= fitted_in[name], name


def test_every_calibration_block_fits_parameters_marked_fitted(params):
    basis = dict(iter_params(params))
    for names, _ids in BLOCKS:
        for name in names:
            assert basis[name].basis == "fitted", name
