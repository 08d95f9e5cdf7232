"""Session limits and the second factor, for every page a logged-in user asks for.

- Idle: a session unused for the clinic's `idle_timeout_minutes` (default 30) is logged out.
- Absolute: a session ends `SESSION_COOKIE_AGE` after logging in, whatever it does.
- Second factor: admins (and superusers) always, everyone when their clinic requires it, and
  anyone who has set one up, must pass it (django-otp, TOTP) before any other page: those
  without a device are sent to set one up first.

The API is left alone: it authenticates with bearer tokens, not sessions.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.db import connections, router
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_otp import middleware as otp_middleware
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermis.web.clinic.access import staff_of
from dermis.web.clinic.accounts import two_factor
from dermis.web.clinic.accounts.backends import StaffModelBackend, user_read
from dermis.web.clinic.accounts.sessions import SessionStore
from dermis.web.clinic.together import Read, fetch, read_together

STARTED = "dermis_session_started"
SEEN = "dermis_session_seen"
SEEN_RESOLUTION = 60  # seconds: the session is saved at most once a minute for being seen
DEFAULT_IDLE_MINUTES = 30
UNGUARDED = ("/api/", "/static/", "/healthz")


@receiver(user_logged_in, dispatch_uid="dermis-session-started")
def _started(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        moment = time.time()  # wall-clock time: a session's age is real, never the services' clock
        request.session[STARTED] = moment
        request.session[SEEN] = moment


def idle_limit_seconds(staff) -> int:
    minutes = staff.clinic.idle_timeout_minutes if staff else DEFAULT_IDLE_MINUTES
    return max(1, minutes) * 60


class AccountMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(UNGUARDED):
            return self.get_response(request)
        staff = staff_of(request)
        expired = self._expired(request, staff)
        if expired:
            logout(request)
            query = urlencode({"next": request.get_full_path(), "ended": expired})
            return redirect(f"{reverse('login')}?{query}")
        detour = self._second_factor(request, user, staff)
        return detour or self.get_response(request)

    def _expired(self, request, staff) -> str:
        session, now = request.session, time.time()
        started = session.setdefault(STARTED, now)
        seen = session.get(SEEN, now)
        if now - started > settings.SESSION_COOKIE_AGE:
            return "limit"
        if now - seen > idle_limit_seconds(staff):
            return "idle"
        if now - seen >= SEEN_RESOLUTION or SEEN not in session:
            session[SEEN] = now
        return ""

    def _second_factor(self, request, user, staff):
        if getattr(user, "is_verified", lambda: False)():
            return None
        try:
            name = resolve(request.path_info).url_name
        except Resolver404:
            name = None
        if name in two_factor.OPEN_WHILE_UNVERIFIED:
            return None
        has_device = two_factor.has_device(user)
        if not has_device and not two_factor.required(user, staff):
            return None
        target = "two-factor-verify" if has_device else "two-factor-setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


TOTP_LABEL = f"{TOTPDevice._meta.app_label}.{TOTPDevice._meta.model_name}"


STAFF_BACKEND = f"{StaffModelBackend.__module__}.{StaffModelBackend.__qualname__}"


class OTPMiddleware(otp_middleware.OTPMiddleware):
    """django-otp's, reading the session's TOTP device with one plain statement of the three
    columns it checks (the device's owner and whether it is confirmed) instead of composing an ORM
    query on every request. Another kind of device is read as django-otp reads it.

    The user and the device are both named in the session, so once it is read they are read
    together, in one round trip (`prepared.read_together`). A session this process has served
    before is read in the same round trip as the user and device it named then (`Remembered`):
    what the session says is still what decides, and a user or device it no longer names is
    read as before."""

    def _verify_user_sync(self, request, user):
        session = request.session
        key = session.session_key  # as the request named it (gone if the session has ended)
        guessed = REMEMBERED.reads(session, self._device_read)
        with read_together(*guessed):
            reads = [r for r in self._reads(request) if r not in guessed]
            with read_together(*reads):
                verified = super()._verify_user_sync(request, user)
        REMEMBERED.note(key, session, verified)
        return verified

    def _reads(self, request) -> list[Read | None]:
        """The session's user's read (as the sign-in backend makes it) and their device's."""
        named = _named(request.session)
        if named is None:
            return []
        user_id, persistent_id = named
        return [user_read(user_id), self._device_read(persistent_id)]

    def _device_read(self, persistent_id) -> Read | None:
        """The statement that reads a TOTP device by its persistent id; None for another kind."""
        if not isinstance(persistent_id, str):
            return None
        label, _, pk = self._normalize_persistent_id(persistent_id).rpartition("/")
        if label != TOTP_LABEL or not pk.isdigit():
            return None
        alias = router.db_for_read(TOTPDevice)
        table = connections[alias].ops.quote_name(TOTPDevice._meta.db_table)
        return Read(alias, f"SELECT id, user_id, confirmed FROM {table} WHERE id = %s", [int(pk)])

    def _device_from_persistent_id(self, persistent_id: str):
        read = self._device_read(persistent_id)
        if read is None:
            return super()._device_from_persistent_id(persistent_id)
        found = fetch(read.alias, read.sql, read.params)
        if not found:
            return None
        row = found[0]
        # The other fields are deferred: read on first use, as any deferred field.
        return TOTPDevice.from_db(
            read.alias, ["id", "user_id", "confirmed"], [*row[:2], bool(row[2])]
        )


def _named(session) -> tuple[int, object] | None:
    """The staff user a session names and its second-factor device's persistent id (None for
    any other sign-in)."""
    user_id = session.get(SESSION_KEY)
    if session.get(BACKEND_SESSION_KEY) != STAFF_BACKEND or not str(user_id).isdigit():
        return None
    return int(user_id), session.get(otp_middleware.DEVICE_ID_SESSION_KEY)


class Remembered:
    """Whose each session was when this process last served it (its key's user and device),
    for the next request of that session to read them in the round trip that reads the session.
    At most `size` sessions, the least recently served forgotten first; a session that no
    longer names a staff user is forgotten. A guess only says what to read ahead: nothing read
    is used unless the session, read in the same round trip, names it."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._named: dict[str, tuple[int, object]] = {}
        self._lock = threading.Lock()

    def reads(self, session, device_read) -> list[Read | None]:
        """The session's read and its remembered user's and device's; none for a session this
        process does not know (or a store without a read of its own)."""
        key = session.session_key
        if not key or not isinstance(session, SessionStore):
            return []
        with self._lock:
            named = self._named.get(key)
        if named is None:
            return []
        user_id, persistent_id = named
        return [session.read(), user_read(user_id), device_read(persistent_id)]

    def note(self, key: str | None, session, user) -> None:
        """What the session under `key` named for `user` (forgotten unless a staff user who is
        signed in, or if the session no longer has that key)."""
        if not key:
            return
        named = None
        if getattr(user, "is_authenticated", False) and session.session_key == key:
            named = _named(session)
        with self._lock:
            self._named.pop(key, None)
            if named is None:
                return
            self._named[key] = named  # last, as the most recently served
            while len(self._named) > self.size:
                del self._named[next(iter(self._named))]


REMEMBERED = Remembered()
