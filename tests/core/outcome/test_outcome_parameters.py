"""The parameter file: every value sourced, invalid files rejected with the key named."""

import pytest
import yaml

from dermis.core.errors import KnowledgeError
from dermis.core.outcome.parameters import (
    DEFAULT_PATH,
    KNOWN_CITATIONS,
    get_param,
    iter_params,
    load_parameters,
    parse_parameters,
    rewrite_values,
)


@pytest.fixture
def raw():
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_every_parameter_has_a_citation_or_calibration_targets(params):
    entries = list(iter_params(params))
    assert len(entries) > 60
    for name, p in entries:
        if p.basis == "fitted":
            assert p.calibrated_to and p.bounds, name
        else:
            assert p.citation in KNOWN_CITATIONS, name


def test_unknown_citation_is_rejected_naming_the_key(raw):
    raw["kinetics"]["inflammation_rate"]["citation"] = "wikipedia"
    with pytest.raises(KnowledgeError) as err:
        parse_parameters(raw, "clinic.yaml")
    assert err.value.key.startswith("kinetics.inflammation_rate")
    assert "wikipedia" in err.value.message


def test_fitted_parameter_without_targets_is_rejected(raw):
    raw["kinetics"]["turnover_rate"]["calibrated_to"] = []
    with pytest.raises(KnowledgeError) as err:
        parse_parameters(raw)
    assert err.value.key.startswith("kinetics.turnover_rate")


def test_missing_concern_is_rejected(raw):
    del raw["concerns"]["laxity"]
    with pytest.raises(KnowledgeError) as err:
        parse_parameters(raw)
    assert "laxity" in err.value.message


def test_incomplete_device_table_is_rejected(raw):
    del raw["dose"]["microdermabrasion_device"]["home_kit"]
    with pytest.raises(KnowledgeError) as err:
        parse_parameters(raw)
    assert err.value.key == "dose.microdermabrasion_device"


def test_a_clinic_file_can_be_loaded(tmp_path, raw):
    raw["noticeable_threshold_pct"]["value"] = 30
    path = tmp_path / "clinic.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert load_parameters(path).noticeable_threshold_pct.value == 30


def test_rewrite_values_keeps_the_file_and_changes_only_values(params):
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    new = rewrite_values(text, {"kinetics.turnover_rate": 0.00123, "concerns.laxity.efficacy": 1.5})
    changed = [(a, b) for a, b in zip(text.splitlines(), new.splitlines(), strict=True) if a != b]
    assert len(changed) == 2
    reloaded = parse_parameters(yaml.safe_load(new))
    assert get_param(reloaded, "kinetics.turnover_rate").value == 0.00123
    assert get_param(reloaded, "concerns.laxity.efficacy").value == 1.5
    assert get_param(reloaded, "dose.capacity") == get_param(params, "dose.capacity")
    with pytest.raises(KeyError):
        rewrite_values(text, {"kinetics.no_such_rate": 1.0})
