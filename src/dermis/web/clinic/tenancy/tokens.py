"""Issuing and revoking API tokens: the only writer of `ApiToken` rows.

A token is "drm_" + 43 random characters; only its SHA-256 is stored. The clinic's admin (or its
system actor) may issue and revoke tokens of the clinic's staff; the installation's operator
(`Actor.operator`, the command line) those of any user. The audit trail names the token by id and
name, never by its secret, which is returned once to the caller.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from dermis.web.api.models import DEFAULT_TOKEN_DAYS, ApiToken
from dermis.web.clinic.actors import ADMIN_ONLY, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.errors import ServiceError, not_found
from dermis.web.clinic.models import StaffMember

TOKEN_PREFIX = "drm_"
MAX_TOKEN_DAYS = 366


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _acting_for(actor: Actor, user, field: str) -> Actor:
    """Who the audit row is written as: the actor, or for the operator the user's clinic's
    system actor (a user with no clinic: the operator, with no clinic)."""
    staff = StaffMember.objects.filter(user=user).select_related("clinic").first()
    if actor.is_operator:
        return Actor.system(staff.clinic, actor.channel) if staff else actor
    actor.require(ADMIN_ONLY, "managing API tokens")
    if staff is None or actor.clinic is None or staff.clinic_id != actor.clinic.pk:
        raise not_found(field)
    return actor


def issue_token(
    actor: Actor, *, username: str, days: int = DEFAULT_TOKEN_DAYS, name: str = ""
) -> tuple[ApiToken, str]:
    """A new token for `username`: (the row, the token itself, to show once)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise ServiceError("days", f"must be between 1 and {MAX_TOKEN_DAYS}")
    name = (name or "").strip()
    if len(name) > 100:
        raise ServiceError("name", "must be at most 100 characters")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise not_found("username")
    audit_as = _acting_for(actor, user, "username")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=token[:8],
            token_sha256=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        record(
            audit_as,
            Action.CREATE,
            row,
            summary=f"API token {row.pk} {name!r} for user {user.pk}, {days} days",
        )
    return row, token


def revoke_token(actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token (revoking it again changes nothing and writes nothing)."""
    row = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if row is None:
        raise not_found("id")
    audit_as = _acting_for(actor, row.user, "id")
    if row.revoked_at is not None:
        return row
    with transaction.atomic():
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record(audit_as, Action.UPDATE, row, summary=f"API token {row.pk} {row.name!r} revoked")
    return row
