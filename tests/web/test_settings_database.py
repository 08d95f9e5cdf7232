"""`DATABASE_URL` selects the database; without it, SQLite in the data directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured


def test_database_url_selects_postgresql(run_python):
    result = run_python(
        "import django; django.setup(); from django.db import connection; "
        "print(connection.vendor, connection.settings_dict['CONN_MAX_AGE'])",
        DERMIS_ENV="development",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["postgresql", "0"]


def test_default_is_sqlite_in_the_data_directory(load_settings, tmp_path: Path):
    data_dir = tmp_path / "clinic-data"

    database = load_settings(DERMIS_ENV="development", DERMIS_DATA_DIR=str(data_dir))["DATABASES"][
        "default"
    ]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == data_dir / "dermis.sqlite3"
    assert data_dir.is_dir()


def test_unknown_database_url_names_the_variable_not_the_password(load_settings):
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_URL") as caught:
        load_settings(
            DERMIS_ENV="development",
            DATABASE_URL="nosuchdb://dermis:s3cret-password@db.example/dermis",
        )

    assert "s3cret-password" not in str(caught.value)
