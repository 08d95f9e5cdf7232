"""`GET /healthz` reports the database's reachability and never how it is configured."""

from __future__ import annotations

import socket

import pytest
from django.db.utils import ConnectionHandler

import dermis
from dermis.web import health


@pytest.mark.django_db
def test_healthz_is_ok_with_the_version(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": dermis.__version__}
    assert "no-store" in response["Cache-Control"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_database(monkeypatch):
    """Point the view's connections at a PostgreSQL server that is not there."""
    port = _closed_port()
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": "127.0.0.1",
                "PORT": port,
                "NAME": "dermis",
                "USER": "dermis",
                "PASSWORD": "s3cret-password",
                "OPTIONS": {"connect_timeout": 2},
            }
        }
    )
    monkeypatch.setattr(health, "connections", handler)
    yield port
    handler.close_all()


# The database mark lifts pytest-django's block on connecting; the view's connection is the one
# from the fixture.
@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_unreachable(client, unreachable_database):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    body = response.content.decode()
    assert "s3cret-password" not in body
    assert str(unreachable_database) not in body
