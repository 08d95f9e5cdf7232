"""The settings refuse to start in production without a real secret key."""

from __future__ import annotations

import os
import secrets

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dermis.web.settings import DEVELOPMENT_SECRET_KEY

SETUP = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.ENVIRONMENT, s.DEBUG, s.SESSION_COOKIE_SECURE, s.SECRET_KEY)"
)


def test_django_refuses_to_start_in_production_without_a_key(run_python):
    result = run_python(SETUP)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DERMIS_SECRET_KEY" in result.stderr


def test_django_starts_in_production_with_a_proper_key(run_python):
    key = secrets.token_urlsafe(37)
    assert len(key) == 50

    result = run_python(SETUP, DERMIS_SECRET_KEY=key, DERMIS_RECORD_KEY="r" * 40)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["production", "False", "True", key]


@pytest.mark.parametrize(
    "secret",
    ["", "   ", "x" * 31, DEVELOPMENT_SECRET_KEY],
    ids=["empty", "blank", "31-characters", "development-key"],
)
def test_production_refuses_a_short_or_development_key(load_settings, secret):
    with pytest.raises(ImproperlyConfigured, match="DERMIS_SECRET_KEY"):
        load_settings(DERMIS_SECRET_KEY=secret)


def test_production_accepts_32_characters(load_settings):
    loaded = load_settings(DERMIS_SECRET_KEY="k" * 32, DERMIS_RECORD_KEY="r" * 32)
    assert loaded["SECRET_KEY"] == "k" * 32


@pytest.mark.parametrize(
    "env",
    [{"DERMIS_ENV": "development"}, {"DERMIS_DEBUG": "1"}, {"DERMIS_ENV": "test"}],
    ids=["DERMIS_ENV=development", "DERMIS_DEBUG=1", "DERMIS_ENV=test"],
)
def test_development_and_test_use_the_development_key(load_settings, env):
    loaded = load_settings(**env)

    assert loaded["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    assert not loaded["PRODUCTION"]
    assert not loaded["SESSION_COOKIE_SECURE"]


def test_debug_is_refused_in_explicit_production(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DERMIS_DEBUG must be off"):
        load_settings(DERMIS_ENV="production", DERMIS_DEBUG="1")


@pytest.mark.parametrize("name", ["DERMIS_DEBUG", "DERMIS_ENV"])
def test_unrecognised_values_name_the_variable(load_settings, name):
    with pytest.raises(ImproperlyConfigured, match=f"^{name}='maybe'"):
        load_settings(**{name: "maybe"})


@pytest.mark.skipif("DERMIS_ENV" in os.environ, reason="DERMIS_ENV set explicitly")
def test_pytest_runs_in_the_test_environment_without_configuration():
    assert settings.ENVIRONMENT == "test"
    assert settings.SECRET_KEY == DEVELOPMENT_SECRET_KEY or os.environ.get("DERMIS_SECRET_KEY")
