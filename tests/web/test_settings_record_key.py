"""The tamper-evidence key: required in production, derived (and never the secret key) elsewhere."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

SECRET = "s" * 40


@pytest.mark.parametrize(
    "key", ["", "r" * 31, SECRET], ids=["missing", "31-characters", "same-as-secret-key"]
)
def test_production_refuses_a_missing_short_or_reused_record_key(load_settings, key):
    with pytest.raises(ImproperlyConfigured, match="DERMIS_RECORD_KEY"):
        load_settings(DERMIS_SECRET_KEY=SECRET, DERMIS_RECORD_KEY=key)


def test_production_takes_the_record_key_as_given(load_settings):
    loaded = load_settings(DERMIS_SECRET_KEY=SECRET, DERMIS_RECORD_KEY="r" * 32)
    assert loaded["DERMIS_RECORD_KEY"] == "r" * 32


def test_development_derives_a_record_key_that_is_not_the_secret_key(load_settings):
    loaded = load_settings(DERMIS_ENV="development")
    assert loaded["DERMIS_RECORD_KEY"]
    assert loaded["DERMIS_RECORD_KEY"] != loaded["SECRET_KEY"]
