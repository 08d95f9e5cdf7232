"""The audit tables' append-only triggers, per database: the events (installed by migration 0010)
and the patients listed by an event about several (migration 0030).

PostgreSQL: UPDATE and DELETE refused row by row, TRUNCATE refused by a statement trigger. SQLite
(which has no TRUNCATE): UPDATE and DELETE refused. Triggers bind the table's owner too; against
someone who could drop them, run the app as a role that does not own the tables (docs/database-
roles.md, `dermis audit app-role-sql`).
"""

from __future__ import annotations

TABLE = "clinic_auditevent"
LISTED_TABLE = "clinic_auditeventpatient"
TABLES = (TABLE, LISTED_TABLE)


def _sqlite_create(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    ]


def _sqlite_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{what}" for what in ("update", "delete")]


def _postgres_create(table: str) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse()""",
        f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse()""",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse()""",
    ]


def _postgres_drop(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


# The events' own, as the migrations before 0030 use them.
SQLITE_CREATE, SQLITE_DROP = _sqlite_create(TABLE), _sqlite_drop(TABLE)
POSTGRES_CREATE, POSTGRES_DROP = _postgres_create(TABLE), _postgres_drop(TABLE)


def statements(vendor: str, *, create: bool, table: str = TABLE) -> list[str]:
    if vendor == "sqlite":
        return _sqlite_create(table) if create else _sqlite_drop(table)
    if vendor == "postgresql":
        return _postgres_create(table) if create else _postgres_drop(table)
    return []


def install(schema_editor, table: str = TABLE) -> None:
    for sql in statements(schema_editor.connection.vendor, create=True, table=table):
        schema_editor.execute(sql)


def remove(schema_editor, table: str = TABLE) -> None:
    for sql in statements(schema_editor.connection.vendor, create=False, table=table):
        schema_editor.execute(sql)


def every_table(vendor: str, *, create: bool) -> list[str]:
    """Both tables' statements (a test's flush lifts and restores them all)."""
    return [sql for table in TABLES for sql in statements(vendor, create=create, table=table)]
