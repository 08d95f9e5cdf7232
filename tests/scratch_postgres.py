"""A throwaway PostgreSQL database for tests that run a server or a restore in another process.

The server is the one `DATABASE_URL` names when it is PostgreSQL, else the local one
(postgres@127.0.0.1:5432); tests skip, saying why, when none answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

LOCAL = "postgres://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else LOCAL


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    import psycopg

    admin_url = server_url()
    name = f"{prefix}_{os.getpid()}_{os.urandom(3).hex()}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {urlsplit(admin_url).hostname}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_database(admin_url, name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
