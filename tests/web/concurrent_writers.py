"""Two writers on their own connections, one waiting for the other's row lock: what a test of the
order the versions' triggers take their rows in needs (test_recall_version.py,
test_record_version_locks.py)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection


def second_waits_then_both_commit(first: tuple, meanwhile: tuple, then: tuple) -> list:
    """Run `first` (SQL, parameters) in a transaction; start `meanwhile` in another and wait until
    it waits for a lock; run `then` in the first and commit it; let the other finish. The errors
    the other met (a deadlock among them), none where both committed."""
    import psycopg

    s = connection.settings_dict
    dsn = f"host={s['HOST']} port={s['PORT'] or 5432} user={s['USER']} dbname={s['NAME']}"
    one, other = psycopg.connect(dsn), psycopg.connect(dsn)
    failed: list[BaseException] = []

    def in_the_other():
        try:
            other.execute("SET lock_timeout = '20s'")
            other.execute(*meanwhile)
            other.commit()
        except BaseException as error:  # reported to the test
            failed.append(error)
            other.rollback()

    try:
        one.execute("SET lock_timeout = '20s'")
        one.execute(*first)
        thread = threading.Thread(target=in_the_other)
        thread.start()
        other_pid = other.info.backend_pid
        for _ in range(200):  # until the other transaction waits for a lock
            waiting = one.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [other_pid]
            ).fetchone()
            if waiting and waiting[0] == "Lock":
                break
            threading.Event().wait(0.05)
        else:
            pytest.fail("the other transaction did not wait for the first")
        one.execute(*then)
        one.commit()
        thread.join(30)
    finally:
        one.close()
        other.close()
    return failed
