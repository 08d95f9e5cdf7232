"""Issuing and revoking API tokens through tenancy's service: the clinic's admin for the clinic's
staff, the operator for anyone; audited by id and name, never with the token itself."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from dermis.web.api.models import ApiToken
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import AuditEvent, Role
from dermis.web.clinic.tenancy import selectors, tokens
from dermis.web.clinic.tenancy import services as tenancy
from tests import factories


def _works(token: str) -> bool:
    response = Client().get("/api/v1/practitioners", headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200


@pytest.fixture
def rita(world):
    user = get_user_model().objects.create_user("rita")
    return tenancy.add_staff(
        Actor.system(world.riverside), user=user, role=Role.ADMIN, display_name="Rita Admin"
    )


def test_the_admin_issues_and_revokes_a_staff_token_audited_without_its_secret(world, caplog):
    alice = factories.actor(world.alice)
    with caplog.at_level(logging.DEBUG):
        row, token = tokens.issue_token(alice, username="pat", days=30, name="booking site")
        assert _works(token)
        tokens.revoke_token(alice, row.pk)
        tokens.revoke_token(alice, row.pk)  # again: nothing changes, nothing is written

    assert not _works(token)
    assert list(selectors.tokens(world.northgate)) == [row]
    events = AuditEvent.objects.filter(object_type="ApiToken", object_id=str(row.pk))
    assert [(e.action, e.clinic_id, e.username) for e in events.order_by("seq")] == [
        ("create", world.northgate.pk, "alice"),
        ("update", world.northgate.pk, "alice"),
    ]
    assert [e.summary for e in events.order_by("seq")] == [
        f"API token {row.pk} 'booking site' for user {world.pat.user.pk}, 30 days",
        f"API token {row.pk} 'booking site' revoked",
    ]
    everything = " ".join(
        f"{e.summary} {e.path} {e.object_id}" for e in AuditEvent.objects.all()
    ) + " ".join(r.getMessage() for r in caplog.records)
    assert token not in everything and token[8:20] not in everything


@pytest.mark.parametrize("persona", ["pat", "fran"])
def test_only_an_admin_manages_tokens(world, persona):
    actor = factories.actor(getattr(world, persona))
    with pytest.raises(ServiceError) as refused:
        tokens.issue_token(actor, username=persona)
    assert refused.value.status == 403
    row, _ = tokens.issue_token(factories.actor(world.alice), username=persona)
    with pytest.raises(ServiceError) as refused:
        tokens.revoke_token(actor, row.pk)
    assert refused.value.status == 403
    row.refresh_from_db()
    assert row.revoked_at is None


def test_another_clinics_admin_sees_no_such_user_or_token(world, rita):
    before = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as refused:
        tokens.issue_token(factories.actor(rita), username="pat")
    assert (refused.value.status, refused.value.field) == (404, "username")
    row, _ = tokens.issue_token(factories.actor(world.alice), username="pat")
    with pytest.raises(ServiceError) as refused:
        tokens.revoke_token(factories.actor(rita), row.pk)
    assert (refused.value.status, refused.value.field) == (404, "id")
    assert AuditEvent.objects.count() == before + 1  # alice's issue only
    assert ApiToken.objects.get().revoked_at is None


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 367}, "days"),
        ({"name": "x" * 101}, "name"),
        ({"username": "nosuchuser"}, "username"),
    ],
)
def test_a_bad_token_field_is_named(world, options, field):
    with pytest.raises(ServiceError) as refused:
        tokens.issue_token(factories.actor(world.alice), **({"username": "pat"} | options))
    assert refused.value.field == field
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(object_type="ApiToken").exists()


def test_the_operator_issues_any_users_token_under_the_users_clinic(world):
    row, _ = tokens.issue_token(Actor.operator("cli"), username="oscar")
    orphan, _ = tokens.issue_token(Actor.operator("cli"), username="nobody")

    staff_event = AuditEvent.objects.get(object_type="ApiToken", object_id=str(row.pk))
    assert (staff_event.clinic_id, staff_event.username) == (world.riverside.pk, "(command line)")
    no_clinic = AuditEvent.objects.get(object_type="ApiToken", object_id=str(orphan.pk))
    assert no_clinic.clinic_id is None
    assert no_clinic.summary.startswith("cli: API token")
