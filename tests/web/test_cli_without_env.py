"""The README's command-line tools work on a workstation as the README shows them."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_manage_and_token_create_work_without_dermis_env(clean_env):
    """`dermis manage …` and `dermis token create USERNAME` with no DERMIS_ENV and no secret key.
    (A server's environment sets both, and keeps the production settings.)"""

    def dermis(*argv: str) -> subprocess.CompletedProcess[str]:
        env = {**clean_env, "DJANGO_SUPERUSER_PASSWORD": "a-long-enough-password-31"}
        return subprocess.run(
            [sys.executable, "-m", "dermis", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert "DERMIS_ENV" not in clean_env and "DERMIS_SECRET_KEY" not in clean_env
    assert dermis("manage", "migrate", "-v", "0").returncode == 0
    made = dermis(
        "manage", "createsuperuser", "--noinput", "--username", "owner", "--email", "o@x.org"
    )
    assert made.returncode == 0, made.stderr

    result = dermis("token", "create", "owner", "--days", "3")

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip()) >= 32 and "shown only now" in result.stderr


def test_with_a_secret_key_set_the_production_default_stands(clean_env):
    env = {**clean_env, "DERMIS_SECRET_KEY": "short"}
    result = subprocess.run(
        [sys.executable, "-m", "dermis", "token", "create", "owner"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert "DERMIS_SECRET_KEY must be a random string" in result.stderr
