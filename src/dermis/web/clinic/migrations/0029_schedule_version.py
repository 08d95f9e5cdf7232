"""Each clinic's schedule version (`ScheduleVersion`), kept by the database.

Triggers add one to the clinic's number in the writing transaction whenever a row changes that a
diary, a calendar feed or the availability page shows, whatever wrote it. PostgreSQL:
statement-level triggers over their transition tables (one upsert per statement, whatever its
number of rows), and row-level ones where only some columns count (a patient's name; transition
tables take no column list).
SQLite: row-level triggers. The clinics already there start from the time of the migration in
microseconds (one made later, from 1).

Self-contained on purpose: a migration must go on doing what it did when it was written.
"""

import time

from django.db import migrations, models

VERSION = "clinic_scheduleversion"
_STAFF = "(SELECT s.clinic_id FROM clinic_staffmember s WHERE s.id = {row}.{column})"

# table: (the clinic of one of its rows, written with "{row}" for the row)
WHOLE_ROWS = {
    "clinic_appointment": "{row}.clinic_id",
    "clinic_staffmember": "{row}.clinic_id",
    "clinic_staffmember_locations": _STAFF.replace("{column}", "staffmember_id"),
    "clinic_workinghours": _STAFF.replace("{column}", "staff_id"),
    "clinic_timeoff": _STAFF.replace("{column}", "staff_id"),
    "clinic_closureday": "{row}.clinic_id",
    "clinic_location": "{row}.clinic_id",
    "clinic_room": "{row}.clinic_id",
    "clinic_equipment": "{row}.clinic_id",
}
# table: (its clinic, the columns whose change counts): updates only (a patient's first
# appointment, or the clinic's first row of anything, is counted by that row's own trigger).
SOME_COLUMNS = {
    "clinic_patient": ("{row}.clinic_id", ("given_name", "family_name", "clinic_id")),
    "clinic_clinic": ("{row}.id", ("name", "phone", "town")),
}
EVENTS = {"insert": ("new_rows",), "delete": ("old_rows",), "update": ("old_rows", "new_rows")}
TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _add_one_postgres(select: str) -> str:
    return f"""INSERT INTO {VERSION} (clinic_id, n) {select}
        ON CONFLICT (clinic_id) DO UPDATE SET n = {VERSION}.n + 1;"""


def _postgres() -> tuple[list[str], list[str]]:
    forwards, backwards = [], []
    for table, clinic in WHOLE_ROWS.items():
        for event, tables in EVENTS.items():
            name = f"{table}_schedule_{event}"
            union = " UNION ".join(
                f"SELECT {clinic.format(row='r')} AS c FROM {t} AS r" for t in tables
            )
            select = f"SELECT DISTINCT c, 1 FROM ({union}) AS changed WHERE c IS NOT NULL"
            forwards += [
                f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_add_one_postgres(select)}
        RETURN NULL;
    END $$;""",
                f"""CREATE TRIGGER {name} AFTER {event.upper()} ON {table}
    REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}();""",
            ]
            backwards += [
                f"DROP TRIGGER IF EXISTS {name} ON {table};",
                f"DROP FUNCTION IF EXISTS {name}();",
            ]
    for table, (clinic, columns) in SOME_COLUMNS.items():
        name = f"{table}_schedule_update"
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        both = ", ".join(f"({clinic.format(row=w)})" for w in ("OLD", "NEW"))
        forwards += [
            f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_add_one_postgres(f"SELECT DISTINCT c, 1 FROM (VALUES {both}) AS v(c)")}
        RETURN NULL;
    END $$;""",
            f"""CREATE TRIGGER {name} AFTER UPDATE OF {", ".join(columns)} ON {table}
    FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {name}();""",
        ]
        backwards += [
            f"DROP TRIGGER IF EXISTS {name} ON {table};",
            f"DROP FUNCTION IF EXISTS {name}();",
        ]
    return forwards, backwards


def _add_one_sqlite(clinic: str) -> str:
    # An upsert from a SELECT needs its WHERE (SQLite's parser), which also skips no clinic.
    return f"""INSERT INTO {VERSION} (clinic_id, n) SELECT {clinic}, 1 WHERE {clinic} IS NOT NULL
        ON CONFLICT (clinic_id) DO UPDATE SET n = n + 1;"""


def _sqlite() -> tuple[list[str], list[str]]:
    forwards, backwards = [], []
    rows = {"insert": ("NEW",), "delete": ("OLD",), "update": ("OLD", "NEW")}
    for table, clinic in WHOLE_ROWS.items():
        for event, which in rows.items():
            name = f"{table}_schedule_{event}"
            body = "\n        ".join(_add_one_sqlite(clinic.format(row=w)) for w in which)
            forwards.append(
                f"""CREATE TRIGGER {name} AFTER {event.upper()} ON {table}
    BEGIN
        {body}
    END;"""
            )
            backwards.append(f"DROP TRIGGER IF EXISTS {name};")
    for table, (clinic, columns) in SOME_COLUMNS.items():
        name = f"{table}_schedule_update"
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        body = "\n        ".join(_add_one_sqlite(clinic.format(row=w)) for w in ("OLD", "NEW"))
        forwards.append(
            f"""CREATE TRIGGER {name} AFTER UPDATE OF {", ".join(columns)} ON {table}
    WHEN {changed}
    BEGIN
        {body}
    END;"""
        )
        backwards.append(f"DROP TRIGGER IF EXISTS {name};")
    return forwards, backwards


STATEMENTS = {"postgresql": _postgres(), "sqlite": _sqlite()}


def forwards(apps, schema_editor):
    chosen = STATEMENTS.get(schema_editor.connection.vendor)
    if chosen is None:
        raise RuntimeError(f"no schedule version triggers for {schema_editor.connection.vendor}")
    for sql in chosen[0]:
        schema_editor.execute(sql)
    # From the time in microseconds, not 0: a number given before (this migration undone and
    # done again) would find what was kept under it.
    start = int(time.time() * 1_000_000)
    schema_editor.execute(
        f"INSERT INTO {VERSION} (clinic_id, n) SELECT id, %s FROM clinic_clinic", [start]
    )


def backwards(apps, schema_editor):
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ((), ()))[1]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0028_audit_event_fewer_indexes")]

    operations = [
        migrations.CreateModel(
            name="ScheduleVersion",
            fields=[
                ("clinic_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("n", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
