"""On PostgreSQL the app can run as a role that does not own the tables (docs/database-roles.md):
such a role reads and writes the clinic's data, adds audit events, and cannot alter, delete,
truncate or unprotect the audit trail."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from dermis.web.clinic.audit_triggers import TABLES
from dermis.web.clinic.db_roles import app_role_grants
from dermis.web.clinic.models import AuditEvent

pytestmark = [
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
    pytest.mark.django_db(transaction=True),
]

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def app_role():
    role = f"dermis_app_test_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {role}")
        cursor.execute(f"CREATE ROLE {role} LOGIN")
        for sql in app_role_grants(role):
            cursor.execute(sql)
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {role}")
        cursor.execute(f"DROP ROLE {role}")


def _connect(role: str):
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=role,
        autocommit=True,
    )


def test_the_app_role_writes_records_and_audit_events_but_cannot_touch_the_trail(app_role):
    import psycopg

    from tests.personas import build_world

    world = build_world()
    with _connect(app_role) as conn:
        conn.execute(
            "UPDATE clinic_patient SET phone = %s, phone_normalised = %s WHERE id = %s",
            ["07700 900001", "+447700900001", world.nora.pk],
        )
        # A phone search by the number's runs of seven digits (migration 0032's function).
        found = conn.execute(
            "SELECT id FROM clinic_patient"
            " WHERE dermis_phone_grams(phone_normalised) @> dermis_phone_grams(%s)",
            ["7700900001"],
        ).fetchall()
        assert (world.nora.pk,) in found
        conn.execute(
            f"INSERT INTO {TABLE} (at, username, action, object_type, object_id, summary, path)"
            " VALUES (now(), 'pat', 'view', '', '', '', '')"
        )
        assert conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] >= 1
        conn.execute(
            "INSERT INTO clinic_auditeventpatient (event_id, patient_id_ref)"
            f" SELECT max(id), 1 FROM {TABLE}"
        )
        conn.execute("UPDATE clinic_auditchainhead SET seq = seq")  # writers move the head
        for table in TABLES:  # the events, and the patients they list
            refused = [
                f"UPDATE {table} SET id = id",
                f"DELETE FROM {table}",
                f"TRUNCATE {table}",
                f"DROP TRIGGER {table}_no_delete ON {table}",
                f"ALTER TABLE {table} DISABLE TRIGGER USER",
                f"ALTER TABLE {table} ADD COLUMN note text",
                f"DROP TABLE {table}",
            ]
            for sql in refused:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql)
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
            assert cursor.fetchone()[0] == 3  # update, delete, truncate: all still there


def test_the_grants_are_printed_for_the_owner_to_run(capsys):
    from dermis.cli.main import main

    assert main(["audit", "app-role-sql", "dermis_app"]) == 0
    sql = capsys.readouterr().out
    for table in TABLES:
        assert f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM "dermis_app";' in sql
    assert main(["audit", "app-role-sql", "bad name; drop"]) == 2
