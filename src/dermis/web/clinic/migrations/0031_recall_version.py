"""Each clinic's recall version (`RecallVersion`), kept by the database.

Triggers add one to the clinic's number in the writing transaction whenever a row changes that its
recall worklist (the page and the API's list) shows, whatever wrote it: the stored recall rows,
the contact log and each patient's latest contact, appointments (the missed follow-ups, and the
bookings that take a patient off the list), a patient's name, phone or email, a plan's version
number, the staff (a follow-up's practitioner). PostgreSQL: statement-level triggers over their
transition tables (one upsert per statement, whatever its number of rows), and row-level ones
where only some columns count; each first locks the same clinics' schedule version rows, so that
every transaction takes the two in one order (`_add_one_postgres`). SQLite: row-level triggers. The clinics already there start from
the time of the migration in microseconds (one made later, from 1).

Self-contained on purpose, as 0029 is: a migration must go on doing what it did when written.
"""

import time

from django.db import migrations, models

VERSION = "clinic_recallversion"
SCHEDULE = "clinic_scheduleversion"
_PATIENTS = "(SELECT p.clinic_id FROM clinic_patient p WHERE p.id = {row}.patient_id)"

# table: the clinic of one of its rows, written with "{row}" for the row
WHOLE_ROWS = {
    "clinic_recallentry": "{row}.clinic_id",
    "clinic_recallcontact": "{row}.clinic_id",
    "clinic_latestrecallcontact": _PATIENTS,
    "clinic_appointment": "{row}.clinic_id",
    "clinic_staffmember": "{row}.clinic_id",
}
# table: (its clinic, the columns whose change counts): updates only (a patient or a plan is on
# the list only through a recall row or an appointment, whose own triggers count its arrival and
# its leaving).
SOME_COLUMNS = {
    "clinic_patient": (
        "{row}.clinic_id",
        ("given_name", "family_name", "phone", "email", "clinic_id"),
    ),
    "clinic_treatmentplan": (_PATIENTS, ("version", "patient_id")),
}
EVENTS = {"insert": ("new_rows",), "delete": ("old_rows",), "update": ("old_rows", "new_rows")}
TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _add_one_postgres(clinics: str) -> str:
    """Add one to the number of each of `clinics` (a query of one column, `c`), in order of clinic,
    having first locked the same clinics' schedule version rows (migration 0029), in order too.

    An appointment, a member of staff or a patient's name counts for both numbers, and the two
    row locks are held until commit: taken in one order by every transaction, they cannot wait
    for each other in a circle (a closed day added and its bookings then cancelled, beside a
    booking made meanwhile, would otherwise deadlock: schedule then recall against recall, the
    triggers firing in order of name, then schedule)."""
    return f"""PERFORM 1 FROM {SCHEDULE} s WHERE s.clinic_id IN ({clinics})
            ORDER BY s.clinic_id FOR NO KEY UPDATE;
        INSERT INTO {VERSION} (clinic_id, n) SELECT c, 1 FROM ({clinics}) AS changed ORDER BY c
            ON CONFLICT (clinic_id) DO UPDATE SET n = {VERSION}.n + 1;"""


def _function_and_trigger(
    table: str, name: str, body: str, trigger: str
) -> tuple[list[str], list[str]]:
    forwards = [
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {body}
        RETURN NULL;
    END $$;""",
        trigger,
    ]
    return forwards, [
        f"DROP TRIGGER IF EXISTS {name} ON {table};",
        f"DROP FUNCTION IF EXISTS {name}();",
    ]


def _postgres() -> tuple[list[str], list[str]]:
    forwards, backwards = [], []
    for table, clinic in WHOLE_ROWS.items():
        for event, tables in EVENTS.items():
            name = f"{table}_recall_{event}"
            union = " UNION ".join(
                f"SELECT {clinic.format(row='r')} AS c FROM {t} AS r" for t in tables
            )
            clinics = f"SELECT DISTINCT c FROM ({union}) AS u WHERE c IS NOT NULL"
            made, undone = _function_and_trigger(
                table,
                name,
                _add_one_postgres(clinics),
                f"""CREATE TRIGGER {name} AFTER {event.upper()} ON {table}
    REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}();""",
            )
            forwards += made
            backwards += undone
    for table, (clinic, columns) in SOME_COLUMNS.items():
        name = f"{table}_recall_update"
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        both = ", ".join(f"({clinic.format(row=w)})" for w in ("OLD", "NEW"))
        clinics = f"SELECT DISTINCT c FROM (VALUES {both}) AS v(c) WHERE c IS NOT NULL"
        made, undone = _function_and_trigger(
            table,
            name,
            _add_one_postgres(clinics),
            f"""CREATE TRIGGER {name} AFTER UPDATE OF {", ".join(columns)} ON {table}
    FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {name}();""",
        )
        forwards += made
        backwards += undone
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
            name = f"{table}_recall_{event}"
            body = "\n        ".join(_add_one_sqlite(clinic.format(row=w)) for w in which)
            forwards.append(
                f"""CREATE TRIGGER {name} AFTER {event.upper()} ON {table}
    BEGIN
        {body}
    END;"""
            )
            backwards.append(f"DROP TRIGGER IF EXISTS {name};")
    for table, (clinic, columns) in SOME_COLUMNS.items():
        name = f"{table}_recall_update"
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
        raise RuntimeError(f"no recall version triggers for {schema_editor.connection.vendor}")
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
    dependencies = [("clinic", "0030_audit_listed_patients")]

    operations = [
        migrations.CreateModel(
            name="RecallVersion",
            fields=[
                ("clinic_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("n", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
