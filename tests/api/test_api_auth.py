"""Bearer tokens: hashed, expiring, revocable; every refusal is a 401 problem with a challenge."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dermis.web.api.models import ApiToken
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.tenancy import tokens

PATIENTS = "/api/v1/patients"
OPERATOR = Actor.operator("cli")


def issue_token(username: str, **options):
    return tokens.issue_token(OPERATOR, username=username, **options)


def revoke_token(token_id: int):
    return tokens.revoke_token(OPERATOR, token_id)


def _get(token: str | None, path: str = PATIENTS):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client().get(path, headers=headers)


def test_a_new_token_works_and_only_its_hash_is_stored(world):
    row, token = issue_token("pat", name="booking site")

    assert re.fullmatch(r"drm_[A-Za-z0-9_-]{43}", token)
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:8] and row.name == "booking site"
    assert not ApiToken.objects.filter(token_sha256=token).exists()
    assert row.expires_at - timezone.now() > timedelta(days=89)
    assert _get(token).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_missing_token_is_401_with_a_bearer_challenge(world):
    response = _get(None)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer realm="dermis"'
    assert response.json()["status"] == 401


@pytest.mark.parametrize("token", ["drm_" + "x" * 43, "not-even-ours", "drm_"])
def test_unknown_token_is_401_invalid_token(world, token):
    response = _get(token)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_expired_token_is_refused(world):
    row, token = issue_token("pat", days=1)
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _get(token).status_code == 401


def test_revoked_token_is_refused_and_revoking_twice_is_harmless(world):
    row, token = issue_token("pat")
    assert _get(token).status_code == 200

    revoke_token(row.pk)
    first = ApiToken.objects.get(pk=row.pk).revoked_at
    revoke_token(row.pk)

    assert _get(token).status_code == 401
    assert ApiToken.objects.get(pk=row.pk).revoked_at == first


def test_a_deactivated_users_token_is_refused(world):
    _row, token = issue_token("pat")
    world.pat.user.is_active = False
    world.pat.user.save()

    assert _get(token).status_code == 401


def test_a_logged_in_browser_session_is_not_enough(world):
    client = Client()
    client.force_login(world.pat.user)

    assert client.get(PATIENTS).status_code == 401


@pytest.mark.parametrize("days", [0, 367])
def test_token_lifetime_is_bounded(world, days):
    with pytest.raises(ServiceError, match="between 1 and 366") as refused:
        issue_token("pat", days=days)
    assert refused.value.field == "days"


@pytest.mark.parametrize(
    ("persona", "path", "status"),
    [
        ("fran", "/api/v1/patients/{nora}/consultations", 403),
        ("fran", "/api/v1/patients/{nora}/plans", 403),
        ("fran", "/api/v1/patients/{nora}/sessions", 403),
        ("fran", "/api/v1/patients/{nora}/grades", 403),
        ("fran", "/api/v1/patients/{nora}/fhir", 403),
        ("fran", "/api/v1/appointments", 200),
        ("fran", "/api/v1/practitioners", 200),
        ("pat", "/api/v1/patients/{nora}/subject-access", 403),
        ("pat", "/api/v1/exports/patients.csv", 403),
        ("alice", "/api/v1/exports/patients.csv", 200),
        ("oscar", "/api/v1/patients/{nora}/consultations", 404),
        ("oscar", "/api/v1/patients/{nora}/fhir", 404),
        ("nobody", "/api/v1/appointments", 403),
        ("anonymous", "/api/v1/practitioners", 401),
        ("anonymous", "/api/v1/directory", 200),
    ],
)
def test_the_web_pages_role_rules_hold(world, api_as, persona, path, status):
    response = api_as(persona).get(path.format(nora=world.nora.pk))

    assert response.status_code == status
    if status >= 400:
        assert response["Content-Type"] == "application/problem+json"
