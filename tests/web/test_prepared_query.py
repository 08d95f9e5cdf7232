"""Queries composed once (clinic/prepared.py) build the same instances as the ORM, related
objects included, without further queries: the session's user and the API token's."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dermis.web.api.auth import TOKEN_WITH_USER
from dermis.web.api.models import ApiToken
from dermis.web.clinic.accounts.backends import WITH_STAFF, StaffModelBackend, _user_by_id
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import RecallRecompute
from dermis.web.clinic.prepared import PreparedQuery
from dermis.web.clinic.tenancy.tokens import issue_token, token_hash

PATH = WITH_STAFF[0].split("__")  # staff, clinic, recall_recompute


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _chain(obj, path: list[str]) -> list:
    """obj, then each related object along `path` (None where the chain stops)."""
    out = [obj]
    for name in path:
        obj = getattr(obj, name, None) if obj is not None else None
        out.append(obj)
    return out


def _same(prepared, orm, path: list[str]) -> None:
    expected = [None if o is None else _values(o) for o in _chain(orm, path)]
    with CaptureQueriesContext(connection) as seen:
        got = [None if o is None else _values(o) for o in _chain(prepared, path)]
    assert seen.captured_queries == []  # every related object came with the row
    assert got == expected
    assert prepared._state.adding is False and prepared._state.db == orm._state.db


@pytest.mark.parametrize("recomputing", [False, True])
def test_the_sessions_user_is_what_the_orm_reads(world, recomputing):
    alice = world.user("alice")
    if recomputing:
        RecallRecompute.objects.create(clinic=world.northgate, version="v1", total=3)
    model = get_user_model()
    orm = model.objects.select_related(*WITH_STAFF).get(pk=alice.pk)
    with CaptureQueriesContext(connection) as seen:
        prepared = _user_by_id().first(alice.pk)
    assert len(seen.captured_queries) == 1
    _same(prepared, orm, PATH)
    assert (getattr(prepared.staff.clinic, "recall_recompute", None) is not None) == recomputing


def test_a_user_without_a_place_on_the_staff_reads_as_the_orm_does(world):
    nobody = world.user("nobody")
    prepared = _user_by_id().first(nobody.pk)
    orm = get_user_model().objects.select_related(*WITH_STAFF).get(pk=nobody.pk)
    _same(prepared, orm, PATH[:1])
    assert not hasattr(prepared, "staff")


def test_an_unknown_or_inactive_user_is_nobody(world):
    assert _user_by_id().first(10**9) is None
    assert StaffModelBackend().get_user(10**9) is None
    pat = world.user("pat")
    get_user_model().objects.filter(pk=pat.pk).update(is_active=False)
    assert StaffModelBackend().get_user(pat.pk) is None


def test_a_value_of_another_type_is_left_to_the_orm(world):
    alice = world.user("alice")
    assert _user_by_id().first(str(alice.pk)).pk == alice.pk


def test_the_api_tokens_user_is_what_the_orm_reads(world):
    _, token = issue_token(Actor.operator("cli"), username="fran", days=1, name="t")
    digest = token_hash(token)
    orm = (
        ApiToken.objects.select_related(*(f"user__{p}" for p in WITH_STAFF))
        .filter(token_sha256=digest)
        .get()
    )
    _same(TOKEN_WITH_USER.first(digest), orm, ["user", *PATH])
    assert TOKEN_WITH_USER.first(token_hash("drm_not-issued")) is None


def test_a_query_that_takes_its_value_twice_is_refused(world):
    model = get_user_model()
    twice = PreparedQuery(model, lambda pk: model.objects.filter(pk=pk).exclude(pk=pk + 0), int)
    with pytest.raises(ValueError, match="once"):
        twice.first(1)
