"""Database sessions (Django's own, `SESSION_ENGINE`), read with one plain statement.

Every signed-in request reads its session first. Django builds that read through the ORM each
time (about 1 ms here, most of it composing the query); the same statement written once costs a
quarter of that. Writing, expiry, key rotation and `clearsessions` stay Django's.

The statement is a `together.Read`, so the request's first reads can go with it in one round
trip (`accounts.middleware.OTPMiddleware`): a store asked for its read gives the same statement
(its key, and the moment it was first asked at) until its key changes.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from dermis.web.clinic.together import Read, fetch


class SessionStore(db.SessionStore):
    _read: Read | None = None

    def read(self) -> Read | None:
        """The statement that reads this session's data while it has not expired; None without
        a key."""
        key = self.session_key
        if not key:
            return None
        if self._read is None or self._read.params[0] != key:
            model = self.model
            alias = router.db_for_read(model)
            connection = connections[alias]
            table = connection.ops.quote_name(model._meta.db_table)
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            self._read = Read(
                alias,
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                [key, now],
            )
        return self._read

    def _get_session_from_db(self):
        read = self.read()
        rows = fetch(read.alias, read.sql, read.params) if read is not None else []
        if not rows:
            self._session_key = None
            return None
        # What `load` reads of it: the data (the expiry was the condition above).
        return self.model(session_key=self.session_key, session_data=rows[0][0])
