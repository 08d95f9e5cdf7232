"""The tests' database flush (tests/conftest.py) survives a deadlock with a live server's reader.

A browser test's database is emptied by one TRUNCATE of every table, which takes the tables' locks
one by one. A query of the live server's still running that reads two of them in the other order
deadlocks with it, and PostgreSQL ends one of the two. When the flush is the one ended, its
transaction was rolled back whole and it runs again."""

from __future__ import annotations

import re
import threading

import psycopg
import pytest
from django.core.management.color import no_style
from django.core.management.sql import sql_flush
from django.db import OperationalError, connection

from dermis.web.clinic.models import Patient


def _wait_until_waiting_for_a_lock(watcher, pid: int) -> None:
    for _ in range(400):
        row = watcher.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
        if row and row[0] == "Lock":
            return
        threading.Event().wait(0.025)
    pytest.fail("the flush never waited for the reader's lock")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE's locks: PostgreSQL")
@pytest.mark.parametrize("attempts", [1, 3])
def test_a_flush_ended_by_a_deadlock_runs_again(world, attempts, monkeypatch):
    monkeypatch.setattr("tests.conftest.FLUSH_ATTEMPTS", attempts)
    statements = sql_flush(no_style(), connection, reset_sequences=True, allow_cascade=False)
    truncate = next(sql for sql in statements if sql.startswith("TRUNCATE"))
    tables = re.findall(r'"([^"]+)"', truncate)
    first, last = tables[0], tables[-1]
    connection.ensure_connection()
    flush_pid = connection.connection.info.backend_pid
    s = connection.settings_dict
    dsn = f"host={s['HOST']} port={s['PORT'] or 5432} user={s['USER']} dbname={s['NAME']}"
    reader, watcher = psycopg.connect(dsn), psycopg.connect(dsn, autocommit=True)
    # PostgreSQL ends the waiter whose deadlock check first finds the cycle. The flush checks once,
    # deadlock_timeout after it began to wait; on a busy machine the reader may start to wait only
    # after that, and then the reader's own check would end the reader. The flush therefore checks
    # late enough for the reader to be waiting, and the reader much later.
    with connection.cursor() as cursor:
        cursor.execute("SET deadlock_timeout = '3s'")
    reader.execute("SET deadlock_timeout = '60s'")
    reader.commit()
    failed: list[BaseException] = []

    def reads_the_first_table_too():
        try:
            _wait_until_waiting_for_a_lock(watcher, flush_pid)
            reader.execute(f'SELECT 1 FROM "{first}" LIMIT 1')
            reader.commit()
        except BaseException as error:  # reported by the test
            failed.append(error)
            reader.rollback()

    try:
        reader.execute(f'SELECT 1 FROM "{last}" LIMIT 1')  # holds the last table's lock
        thread = threading.Thread(target=reads_the_first_table_too)
        thread.start()
        try:
            if attempts == 1:
                with pytest.raises(OperationalError, match="deadlock detected"):
                    connection.ops.execute_sql_flush(statements)
                assert Patient.objects.exists()  # rolled back whole
            else:
                connection.ops.execute_sql_flush(statements)
                assert not Patient.objects.exists()
        finally:
            thread.join(30)
    finally:
        reader.close()
        watcher.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET deadlock_timeout")
    assert not failed, failed
