"""Reads sent together: a page names the reads its parts will make (each composed-once read's
`ahead()`, clinic/prepared.py, or a `Read` of its own), and `read_together(...)` sends them to
PostgreSQL in one round trip; each read inside the block whose statement is one of them takes its
rows from there (`fetch`). Thirteen small reads took 2.0 ms one by one and 0.45 ms together here,
the round trips being most of it.

They go as prepared statements (`run_prepared`: psycopg's pipeline, each statement prepared on the
connection the first time it is sent). PostgreSQL then plans a read once per connection, for any
values (`plan_cache_mode`, set by the settings), where a statement sent as text is planned on
every request: the record page's reads took 1.9 ms to plan and 0.5 ms to run. (Left to choose,
PostgreSQL planned the recall worklist's three reads anew on every run, 7 ms, estimating their
generic plans dearer though they run as fast.) Where
prepared statements cannot be kept (`DERMIS_DB_PREPARED_READS` off: a PgBouncer that does not
keep them), the reads go as one string of several statements instead.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import operator
import pickle
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

# The most statements psycopg keeps prepared on one connection; the least used is deallocated
# first. A server's pages send about a hundred and fifty different reads.
PREPARED_MAX = 256
# While `run_prepared` runs, the statements it asks to be prepared are (and only those: Django's
# own cursors bind on the client and never ask); outside it preparing is off, as Django sets it.
_ONLY_WHEN_ASKED = 2**62
# A prepared statement that no longer stands: its plan's columns changed type under it ("cached
# plan must not change result type", after a migration altered a column while the connection
# kept it), or it is gone from the server. The connection's statements are dropped and prepared
# again, rather than failing until the connection ends.
STALE = frozenset(("0A000", "26000"))

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Read:
    """A prepared read's statement as it will be run: its database, SQL and parameters."""

    alias: str
    sql: str
    params: list


# Within `read_together`: the rows of the reads sent, by (database, SQL, parameters), one dict
# per block (innermost last: a block inside another takes from either).
_AHEAD: ContextVar[tuple[dict, ...]] = ContextVar("dermis_reads_ahead", default=())


def several_in_one_string(connection) -> bool:
    """Whether several statements may go to this connection as one string, their results read
    one after the other: PostgreSQL through psycopg 3 with client-side binding (Django's default;
    psycopg2's cursors cannot step to a string's second result), outside any transaction of the
    caller's (where one statement's failure would end it for all)."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return (
        is_psycopg3
        and not connection.settings_dict["OPTIONS"].get("server_side_binding")
        and not connection.in_atomic_block
        and connection.get_autocommit()
    )


def prepared_reads(connection) -> bool:
    """Whether reads may go as prepared statements, several in one round trip: where several
    statements may go in one string (`several_in_one_string`), the settings keep prepared
    statements (`DERMIS_DB_PREPARED_READS`) and libpq has pipelines."""
    return (
        several_in_one_string(connection)
        and getattr(settings, "DERMIS_DB_PREPARED_READS", False)
        and _pipelines()
    )


@functools.cache
def _pipelines() -> bool:
    import psycopg

    return psycopg.Pipeline.is_supported()


def run_prepared(connection, statements: list[tuple[str, list]]) -> list[list]:
    """The rows of each of `statements` (SQL and parameters, as Django writes them), sent in one
    round trip as statements prepared on the connection: psycopg's pipeline, binding on the server.
    Logged as one query where Django logs queries, with the parameters in place, as the string of
    several statements it replaces was (a test counts round trips so)."""
    import psycopg

    connection.ensure_connection()
    raw = connection.connection
    began = time.monotonic()
    cursors: list = []
    try:
        with connection.wrap_database_errors:
            raw.prepare_threshold, raw.prepared_max = _ONLY_WHEN_ASKED, PREPARED_MAX
            try:
                if len(statements) == 1:
                    cursors.append(psycopg.Cursor(raw))
                    cursors[0].execute(*statements[0], prepare=True)
                else:
                    with raw.pipeline():
                        for sql, params in statements:
                            cursors.append(psycopg.Cursor(raw))
                            cursors[-1].execute(sql, params, prepare=True)
                return [cursor.fetchall() for cursor in cursors]
            except psycopg.Error as err:
                if err.sqlstate in STALE:
                    _forget_prepared(raw)
                raise
            finally:
                raw.prepare_threshold = None
                for cursor in cursors:
                    cursor.close()
    finally:  # a failed one too, as Django logs its own
        if connection.queries_logged:
            sql = "; ".join(connection.ops.compose_sql(sql, params) for sql, params in statements)
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - began:.3f}"})


def _forget_prepared(raw) -> None:
    """Deallocate every statement prepared on the connection, psycopg forgetting them too (it
    does on seeing DEALLOCATE ALL), so that the next read prepares its statement anew."""
    import psycopg

    with contextlib.suppress(psycopg.Error):  # the read is then read as text all the same
        psycopg.Cursor(raw).execute("DEALLOCATE ALL", prepare=False)


def _key(alias: str, sql: str, params) -> tuple | None:
    key = (alias, sql, tuple(params))
    try:
        hash(key)
    except TypeError:  # a parameter no dict can hold (a list for an array column)
        return None
    return key


@contextmanager
def read_together(*reads: Read | None) -> Iterator[dict]:
    """Send `reads` (the `ahead()` of prepared reads; None is left out) in one round trip, and
    within the block give each prepared read whose statement is one of them those rows, as many
    times as it was named (once, unless the same read is named twice): a read beyond that, and
    any other read, goes to the database as usual. For a page that only reads: nothing inside
    may write what one of these reads would show.

    Where several statements cannot go in one string (`several_in_one_string`: SQLite, a
    transaction), or the string fails, nothing is read ahead and each read runs on its own, as
    it would without the block (and says what is wrong itself).

    A read that an enclosing block sent and nothing has taken yet is not sent again: it is taken
    from there.

    Gives what was read ahead, before anything inside takes from it: {(database, SQL,
    parameters): [rows, times named]} (empty where nothing was), for a page kept by what it
    read (the record page)."""
    # What a block around this one read ahead is not sent again: a page may send the reads of
    # its parts with its own, and a part's own block then takes from the page's.
    held = _AHEAD.get()
    found = _send_together(
        [r for r in reads if r is not None and not _held(held, r.alias, r.sql, r.params)]
    )
    if not found:
        yield found
        return
    token = _AHEAD.set((*_AHEAD.get(), found))
    try:
        yield found
    finally:
        _AHEAD.reset(token)


def _held(blocks: tuple[dict, ...], alias: str, sql: str, params) -> bool:
    key = _key(alias, sql, params)
    return key is not None and any(key in found for found in blocks)


def _send_together(reads: list[Read]) -> dict:
    found: dict = {}
    by_alias: dict[str, dict] = {}  # each statement, and how many times it was named
    for r in reads:
        key = _key(r.alias, r.sql, r.params)
        if key is not None:
            named = by_alias.setdefault(r.alias, {})
            named[key] = named.get(key, 0) + 1
    for alias, keys in by_alias.items():
        connection = connections[alias]
        if sum(keys.values()) < 2 or not several_in_one_string(connection):
            continue
        try:
            if prepared_reads(connection):
                rows = run_prepared(connection, [(key[1], list(key[2])) for key in keys])
                for (key, times), each in zip(keys.items(), rows, strict=True):
                    found[key] = [each, times]
                continue
            sql = "; ".join(key[1] for key in keys)
            params = [p for key in keys for p in key[2]]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                for i, (key, times) in enumerate(keys.items()):
                    if i and not cursor.nextset():
                        raise DatabaseError("fewer results than statements")
                    found[key] = [cursor.fetchall(), times]
        except DatabaseError:
            for key in keys:
                found.pop(key, None)
    return found


def row_of(obj) -> list:
    """A model instance's stored values, in its fields' order: part of a digest."""
    return [getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields]


def rows_digest(rows: list, *parts) -> str:
    """One digest of `parts` and every stored value of each of `rows` (model instances of one
    model), for a key in this process (clinic/process_memo.py): pickled, which writes dates and
    times in a few bytes where `repr` spells them out (a page of fifty rows: 0.3 ms against 0.6)."""
    values = [_stored(type(rows[0]))(row) for row in rows] if rows else []
    return hashlib.sha256(pickle.dumps((parts, values), protocol=5)).hexdigest()


@functools.cache
def _stored(model) -> operator.attrgetter:
    return operator.attrgetter(*(f.attname for f in model._meta.concrete_fields))


def fetch(alias: str, sql: str, params: list) -> list:
    """The rows of a statement: sent ahead (`read_together`, as a `Read` of the same SQL and
    parameters), or read now."""
    blocks = _AHEAD.get()
    if blocks:
        key = _key(alias, sql, params)
        for found in reversed(blocks):
            if key is not None and key in found:
                rows, times = found[key]
                if times == 1:
                    del found[key]
                else:
                    found[key][1] = times - 1
                return list(rows)
    connection = connections[alias]
    if prepared_reads(connection):
        try:
            return list(run_prepared(connection, [(sql, params)])[0])
        except DatabaseError as err:  # read as text below, which raises what is really wrong
            # The kind of error only: its message may quote a value.
            cause = err.__cause__
            code = getattr(getattr(cause, "diag", None), "sqlstate", None)
            log.warning("a prepared read failed (%s %s); read as text", type(cause).__name__, code)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
