"""Fixtures every test folder shares: the world of named personas, logged-in web clients, API
clients with bearer tokens, and a fast password hasher.

The personas (tests/personas.py): Northgate Skin Clinic — alice (admin), pat (practitioner), fran
(front desk), patient Nora Quinn; Riverside Aesthetics — oscar (practitioner), patient Rhys Owen;
nobody (a user without a clinic); anonymous. Records beyond them are built with tests/factories.py,
which goes through the same services as the web and the API.
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests say what must hold, not how fast: Hypothesis's per-example deadline (200 ms) reads
# the machine's load (a core example took 313 ms while two suites shared two cores), so it is off.
hypothesis_settings.register_profile("dermis", deadline=None)
hypothesis_settings.load_profile("dermis")

# Argon2 is slow on purpose. New hashes in tests use MD5; Argon2 stays in the list so a hash made
# by the production hasher still verifies. tests/web/test_settings_* check production's choice.
FAST_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    from django.conf import settings

    settings.PASSWORD_HASHERS = FAST_HASHERS


def pass_second_factor(client, user, *, always: bool = False) -> None:
    """Where the second factor is required (admins, superusers, a clinic that asks it), give the
    user a TOTP device and mark the client's session as having passed it."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from dermis.web.clinic.accounts import two_factor
    from dermis.web.clinic.models import StaffMember

    staff = StaffMember.objects.filter(user=user).select_related("clinic").first()
    if not (always or two_factor.required(user, staff)):
        return
    device = two_factor.confirmed_devices(user).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


FLUSH_ATTEMPTS = 3


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_triggers():
    """Tests that use real transactions are cleaned up by Django's flush (TRUNCATE on PostgreSQL,
    DELETE on SQLite), which the audit tables' append-only triggers refuse. Only here, in tests,
    the flush lifts them for its own transaction and puts them back."""
    from django.db import OperationalError
    from django.db.backends.base.operations import BaseDatabaseOperations

    from dermis.web.clinic import audit_triggers

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        vendor = self.connection.vendor
        lift = audit_triggers.every_table(vendor, create=False)
        restore = audit_triggers.every_table(vendor, create=True)
        # TRUNCATE locks its tables one by one; a query of the live server's that joins two of
        # them can take them in the other order. PostgreSQL then ends one of the two: if it is
        # the flush (its transaction rolled back whole), it runs again.
        for attempt in range(1, FLUSH_ATTEMPTS + 1):
            try:
                return original(self, [*lift, *sql_list, *restore])
            except OperationalError as error:
                if attempt == FLUSH_ATTEMPTS or "deadlock detected" not in str(error):
                    raise
                time.sleep(0.2 * attempt)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def _nothing_kept_by_the_process():
    """What a worker process keeps in front of the shared cache (clinic/process_memo.py) is keyed
    by ids and versions that another test's database gives again: each test starts without."""
    from dermis.web.clinic import process_memo

    process_memo.clear_all()


@pytest.fixture
def world(db):
    """Two clinics and their people: see tests/personas.py."""
    from tests.personas import build_world

    return build_world()


@pytest.fixture
def client_as(world):
    """`client_as("pat")` is a test client logged in as that persona (or anonymous)."""
    from django.test import Client

    def make(persona: str) -> Client:
        c = Client()
        if persona in ("nora", "rhys"):  # patients, signed in to the portal
            return portal_client(getattr(world, persona))
        if persona != "anonymous":
            c.force_login(world.user(persona))
            pass_second_factor(c, world.user(persona))
        return c

    return make


def portal_client(patient):
    """A test client with `patient` signed in to the portal (as the one-time link leaves it)."""
    from django.test import Client

    from dermis.web.clinic.portal.signin import SESSION_KEY

    c = Client()
    session = c.session
    session[SESSION_KEY] = patient.pk
    session.save()
    return c


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

    def put(self, path: str, body):
        return self._send("put", path, body)

    def delete(self, path: str):
        return self.client.delete(path, headers=self.headers)


@pytest.fixture
def token_for(world):
    """`token_for("pat")`: a new bearer token for that persona."""
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.tenancy import tokens

    def make(persona: str, **options) -> str:
        username = world.user(persona).get_username()
        return tokens.issue_token(Actor.operator("cli"), username=username, **options)[1]

    return make


@pytest.fixture
def api_as(world, token_for):
    """`api_as("pat")`: a client sending pat's token; "anonymous" sends none; "nora" is the
    patient signed in to the portal (a session cookie, no token)."""
    from django.test import Client

    def make(persona: str) -> ApiClient:
        if persona in ("nora", "rhys"):
            return ApiClient(portal_client(getattr(world, persona)), None)
        return ApiClient(Client(), None if persona == "anonymous" else token_for(persona))

    return make
