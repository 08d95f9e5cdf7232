"""Fixtures for tests that need a fresh interpreter: settings are read once per process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Variables that would leak this test run's configuration into the child.
_INHERITED_CONFIG = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_VERSION")


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """The current environment without any Dermis or Django configuration; data in `tmp_path`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DERMIS_") and key not in _INHERITED_CONFIG
    }
    env["DJANGO_SETTINGS_MODULE"] = "dermis.web.settings"
    env["DERMIS_DATA_DIR"] = str(tmp_path / "var")
    return env


@pytest.fixture
def run_python(clean_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `code` in a new interpreter with `clean_env` plus the given variables."""

    def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code],
            env={**clean_env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture
def load_settings(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., dict[str, object]]:
    """Execute a fresh copy of the settings module with `clean_env` plus the given variables.

    Faster than a new interpreter, and leaves the settings this test run uses untouched.
    """
    import runpy

    import dermis.web.settings

    def load(**env: str) -> dict[str, object]:
        for key in os.environ.keys() - clean_env.keys():
            monkeypatch.delenv(key)
        for key, value in {**clean_env, **env}.items():
            monkeypatch.setenv(key, value)
        return runpy.run_path(dermis.web.settings.__file__)

    return load


@pytest.fixture
def back_to_the_latest():
    """The test migrates back and forth: leave the database at the latest migrations again."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
