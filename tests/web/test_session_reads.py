"""The session and the session's second-factor device are read with plain statements
(accounts/sessions.py, accounts/middleware.OTPMiddleware): they decide exactly what Django's and
django-otp's reads decided — an expired or unknown session is nobody, and a device that is gone,
unconfirmed or someone else's does not count as the second factor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermis.web.clinic.accounts.middleware import REMEMBERED, Remembered
from dermis.web.clinic.accounts.sessions import SessionStore

PAGE = "/patients/"


def test_a_signed_in_session_reads_in_one_statement(world, client_as):
    fran = client_as("fran")
    with CaptureQueriesContext(connection) as seen:
        assert fran.get(PAGE).status_code == 200
    session = [q["sql"] for q in seen.captured_queries if "django_session" in q["sql"]]
    reads = [sql for sql in session if sql.startswith("SELECT")]
    assert len(reads) == 1
    assert reads[0].startswith("SELECT session_data FROM")


def test_an_expired_session_is_nobody(world, client_as):
    fran = client_as("fran")
    key = fran.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = fran.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert SessionStore(key).load() == {}


def test_an_unknown_session_key_is_nobody_and_gets_a_new_key(world, client_as):
    store = SessionStore("x" * 32)
    assert store.load() == {}
    assert store.session_key is None  # never the key someone else chose
    fran = client_as("fran")
    fran.cookies["sessionid"] = "y" * 32
    assert fran.get(PAGE)["Location"].startswith(reverse("login"))


def test_a_live_session_loads_what_was_saved(db):
    store = SessionStore()
    store["answer"] = 42
    store.create()
    assert SessionStore(store.session_key).load() == {"answer": 42}


def _second_factor() -> tuple[str, str]:
    """Where a page sends someone who has not passed the second factor."""
    return reverse("two-factor-verify"), reverse("two-factor-setup")


def _device(client) -> TOTPDevice:
    """The device the client's session passed the second factor with."""
    return TOTPDevice.objects.get(pk=int(client.session[DEVICE_ID_SESSION_KEY].rsplit("/", 1)[1]))


# Each device test also runs outside a test transaction, where on PostgreSQL the user and the
# device are read together in one round trip (prepared.read_together).
BOTH_WAYS = pytest.mark.parametrize(
    "together",
    [False, pytest.param(True, marks=pytest.mark.django_db(transaction=True))],
    ids=["in-a-transaction", "read-together"],
)


@BOTH_WAYS
def test_the_admins_device_passes_while_it_is_theirs_and_confirmed(world, client_as, together):
    alice = client_as("alice")  # admins must pass the second factor
    assert alice.get(PAGE).status_code == 200
    device = _device(alice)
    with CaptureQueriesContext(connection) as seen:
        alice.get(PAGE)
    reads = [q["sql"] for q in seen.captured_queries if "otp_totp_totpdevice" in q["sql"]]
    assert len(reads) == 1
    device_read = 'SELECT id, user_id, confirmed FROM "otp_totp_totpdevice" WHERE id = '
    if together and connection.vendor == "postgresql":
        assert 'SELECT "auth_user"' in reads[0] and f"; {device_read}" in reads[0]
    else:
        assert reads[0].startswith(device_read)

    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    assert alice.get(PAGE)["Location"].startswith(_second_factor())
    assert DEVICE_ID_SESSION_KEY not in alice.session  # dropped, as django-otp drops it


@BOTH_WAYS
def test_a_deleted_device_no_longer_passes(world, client_as, together):
    alice = client_as("alice")
    _device(alice).delete()
    assert alice.get(PAGE)["Location"].startswith(_second_factor())


@BOTH_WAYS
def test_someone_elses_device_does_not_pass(world, client_as, together):
    alice = client_as("alice")
    theirs = TOTPDevice.objects.create(user=world.user("pat"), name="pat's", confirmed=True)
    session = alice.session
    session[DEVICE_ID_SESSION_KEY] = theirs.persistent_id
    session.save()
    assert alice.get(PAGE)["Location"].startswith(_second_factor())
    assert TOTPDevice.objects.get(pk=theirs.pk).name == "pat's"  # read, not changed


# --- A session served before: read in one round trip with the user and device it named --------


def _who_reads(client) -> list[str]:
    """The statements (or strings of them) one request of `client` sends to read its session,
    user and device."""
    with CaptureQueriesContext(connection) as seen:
        assert client.get(PAGE).status_code == 200
    names = ("django_session", '"auth_user"', "otp_totp_totpdevice")
    return [q["sql"] for q in seen.captured_queries if any(n in q["sql"] for n in names)]


@pytest.mark.django_db(transaction=True)
def test_a_session_served_before_is_read_with_its_user_and_device(world, client_as):
    alice = client_as("alice")
    key = alice.cookies["sessionid"].value
    REMEMBERED.note(key, None, None)  # as in a process that has not served it
    first = _who_reads(alice)  # now this process knows whose the session is
    assert REMEMBERED._named[key][0] == world.user("alice").pk
    second = _who_reads(alice)
    if connection.vendor == "postgresql":
        # the session, then the user with the device; then all three in one string
        assert len(first) == 2 and first[0].startswith("SELECT session_data")
        assert len(second) == 1 and second[0].startswith("SELECT session_data")
        assert 'FROM "auth_user"' in second[0] and "otp_totp_totpdevice" in second[0]
    else:  # SQLite reads one statement at a time, as before
        assert len(first) == len(second) == 3


@pytest.mark.django_db(transaction=True)
def test_a_wrong_guess_reads_the_sessions_own_user(world, client_as):
    fran = client_as("fran")
    key = fran.cookies["sessionid"].value
    fran.get(PAGE)
    REMEMBERED._named[key] = (world.user("alice").pk, None)  # not whose the session is
    response = fran.get(PAGE)
    assert response.status_code == 200
    assert response.wsgi_request.user.username == world.user("fran").username
    assert response.wsgi_request.staff.pk == world.fran.pk
    assert REMEMBERED._named[key][0] == world.user("fran").pk  # put right


@pytest.mark.django_db(transaction=True)
def test_an_ended_session_is_nobody_and_forgotten(world, client_as):
    fran = client_as("fran")
    key = fran.cookies["sessionid"].value
    fran.get(PAGE)
    assert key in REMEMBERED._named
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert fran.get(PAGE)["Location"].startswith(reverse("login"))
    assert key not in REMEMBERED._named


def test_remembered_forgets_the_least_recently_served_first(db):
    stores = [SessionStore() for _ in range(3)]
    for store in stores:
        store.create()
    remembered = Remembered(size=2)

    class SignedIn:
        is_authenticated = True

    for i, store in enumerate(stores):
        store["_auth_user_id"] = str(10 + i)
        store["_auth_user_backend"] = "dermis.web.clinic.accounts.backends.StaffModelBackend"
    a, b, c = stores
    remembered.note(a.session_key, a, SignedIn())
    remembered.note(b.session_key, b, SignedIn())
    remembered.note(a.session_key, a, SignedIn())  # served again: now the most recent
    remembered.note(c.session_key, c, SignedIn())
    assert list(remembered._named) == [a.session_key, c.session_key]
    assert remembered._named[c.session_key] == (12, None)
    assert remembered.reads(b, lambda pid: None) == []  # forgotten: nothing read ahead
    assert remembered.reads(c, lambda pid: None)[0] == c.read()
