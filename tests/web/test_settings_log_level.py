"""`DERMIS_LOG_LEVEL` is read the same way by the settings and by gunicorn's configuration."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured


@pytest.mark.parametrize("given", ["warning", "WARNING", " Warning "])
def test_a_level_in_either_case_configures_the_root_logger(load_settings, given):
    loaded = load_settings(DERMIS_ENV="development", DERMIS_LOG_LEVEL=given)

    assert loaded["LOGGING"]["root"]["level"] == "WARNING"


def test_an_unknown_level_names_the_variable(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DERMIS_LOG_LEVEL='loud'"):
        load_settings(DERMIS_ENV="development", DERMIS_LOG_LEVEL="loud")
