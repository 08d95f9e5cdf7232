"""API fixtures: the personas of tests/web/personas.py, each with a bearer token."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))


class ApiClient:
    """A Django test client that sends a bearer token and JSON bodies."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **query):
        return self.client.get(path, query, headers=self.headers)

    def _send(self, method: str, path: str, body) -> object:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        send = getattr(self.client, method)
        return send(path, data, content_type="application/json", headers=self.headers)

    def post(self, path: str, body=None):
        return self._send("post", path, {} if body is None else body)

    def patch(self, path: str, body):
        return self._send("patch", path, body)


@pytest.fixture
def world(db):
    from personas import build_world

    return build_world()


@pytest.fixture
def token_for(world):
    """`token_for("pat")`: a new bearer token for that persona."""
    from dermis.web.api.auth import issue_token

    def make(persona: str, **options) -> str:
        return issue_token(world.user(persona).get_username(), **options)[1]

    return make


@pytest.fixture
def api_as(token_for):
    """`api_as("pat")`: a client sending pat's token; "anonymous" sends none."""
    from django.test import Client

    def make(persona: str) -> ApiClient:
        return ApiClient(Client(), None if persona == "anonymous" else token_for(persona))

    return make


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Personas get real passwords; Argon2 would make every test's set-up take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
