"""PostgreSQL's `timestamptz` read by psycopg's compiled loader rather than in Python.

Django reads every `timestamptz` through its own loader, a Python subclass of psycopg's
pure-Python one, so that each value gets the connection's time zone: about 6 µs a value here,
against well under 1 µs for the compiled loader psycopg's binary package ships. A page that reads
a practitioner's four busy months (about 700 appointments, two times each) spent 8 ms turning
text into datetimes, the database 1 ms finding them.

With `USE_TZ` and the connection in UTC (Django's own choice when `DATABASES` names no time zone),
the compiled loader gives the same values, in UTC, so each new connection is given it. Elsewhere
(no compiled psycopg, a database time zone of its own) Django's loader stays. The loader carries
`timezone`, which Django compares with the connection's before each cursor.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.backends.signals import connection_created

TIMESTAMPTZ = 1184


def _compiled_loader():
    """psycopg's compiled `timestamptz` loader, or None where psycopg runs in pure Python."""
    try:
        import psycopg
        from psycopg.pq import Format
    except ImportError:  # pragma: no cover - PostgreSQL's driver is a dependency
        return None
    loader = psycopg.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
    return None if loader is None or loader.__module__.startswith("psycopg.") else loader


def _utc_loader(compiled):
    from psycopg.adapt import Loader

    class UTCTimestamptzLoader(Loader):
        """The compiled loader, called directly (its bound `load`), for a connection in UTC."""

        timezone = datetime.UTC  # what Django's create_cursor compares

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.load = compiled(oid, context).load

        def load(self, data):  # replaced per instance by the compiled loader's
            raise NotImplementedError

    return UTCTimestamptzLoader


_COMPILED = _compiled_loader()
LOADER = _utc_loader(_COMPILED) if _COMPILED is not None else None


def applies(connection) -> bool:
    return (
        LOADER is not None
        and connection.vendor == "postgresql"
        and settings.USE_TZ
        and connection.timezone == datetime.UTC
        and connection.timezone_name == "UTC"
    )


def use_compiled_loader(sender, connection, **kwargs) -> None:
    if applies(connection):
        connection.connection.adapters.register_loader("timestamptz", LOADER)


def install() -> None:
    connection_created.connect(use_compiled_loader, dispatch_uid="dermis.pg_times")
