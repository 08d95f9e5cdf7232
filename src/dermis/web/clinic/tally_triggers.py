"""Installing and removing the triggers that keep a tally (the appointments', migration 0025;
the patients', migration 0027) on the database in use. Imported by those migrations, so what it
does must stay as it is."""

from __future__ import annotations


def install(schema_editor, statements: dict[str, list[str]], fill: str, what: str) -> None:
    """Run this database's statements (by `connection.vendor`), then `fill`: the tally starts
    from the rows already there."""
    vendor = schema_editor.connection.vendor
    chosen = statements.get(vendor)
    if chosen is None:
        raise RuntimeError(f"no {what} triggers for {vendor}")
    for sql in [*chosen, fill]:
        schema_editor.execute(sql)


def remove(schema_editor, statements: dict[str, list[str]]) -> None:
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


EVENTS = ("insert", "delete", "update")
_TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def postgres_triggers(table: str) -> list[str]:
    """PostgreSQL: one statement-level trigger per event on `table`, over its transition tables
    (`new_rows`, `old_rows`), calling the function `<table>_tally_<event>()`."""
    return [
        f"""CREATE TRIGGER {table}_tally_{event} AFTER {event.upper()} ON {table}
    REFERENCING {_TRANSITIONS[event]}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_tally_{event}();"""
        for event in EVENTS
    ]


def postgres_reverse(table: str) -> list[str]:
    return [
        stmt
        for event in EVENTS
        for stmt in (
            f"DROP TRIGGER IF EXISTS {table}_tally_{event} ON {table};",
            f"DROP FUNCTION IF EXISTS {table}_tally_{event}();",
        )
    ]


def sqlite_reverse(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_tally_{event};" for event in EVENTS]
