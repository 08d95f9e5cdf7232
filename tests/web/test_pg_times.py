"""On PostgreSQL, `timestamptz` is read by psycopg's compiled loader (`dermis/web/pg_times.py`),
and what it reads is what Django's own loader read: the same instants, in UTC."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.pq import Format

from dermis.web import pg_times

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's loaders only"
)

TEXTS = [
    "2026-12-02 09:15:00+00",
    "2026-03-29 00:59:59.999999+00",  # London's clocks go forward at 01:00 UTC
    "2026-10-25 01:30:00.5+01",
    "1985-03-14 23:00:00-05:30",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def _read(texts: list[str]) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
            [texts],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_the_connection_reads_times_with_the_compiled_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(pg_times.TIMESTAMPTZ, Format.TEXT)
    assert loader is pg_times.LOADER
    assert pg_times.LOADER is not None, "psycopg's binary package is a dependency"


@pytest.mark.django_db
def test_what_it_reads_is_what_djangos_loader_read():
    fast = _read(TEXTS)
    connection.connection.adapters.register_loader("timestamptz", type(
        "DjangoUTC", (BaseTzLoader,), {"timezone": dt.UTC}
    ))  # fmt: skip
    try:
        django = _read(TEXTS)
    finally:
        connection.connection.adapters.register_loader("timestamptz", pg_times.LOADER)
    assert fast == django
    for value in fast:
        assert value.utcoffset() == dt.timedelta(0)
        assert value.tzinfo == dt.UTC
    assert fast[0] == dt.datetime(2026, 12, 2, 9, 15, tzinfo=dt.UTC)
    assert fast[2] == dt.datetime(2026, 10, 25, 0, 30, 0, 500000, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_a_connection_in_another_time_zone_keeps_djangos_loader(monkeypatch):
    wrapper = connections["default"]
    assert pg_times.applies(wrapper)
    monkeypatch.setitem(wrapper.settings_dict, "TIME_ZONE", "Europe/London")
    for cached in ("timezone", "timezone_name"):
        wrapper.__dict__.pop(cached, None)
    try:
        assert not pg_times.applies(wrapper)
    finally:
        monkeypatch.undo()
        for cached in ("timezone", "timezone_name"):
            wrapper.__dict__.pop(cached, None)
    assert pg_times.applies(wrapper)
