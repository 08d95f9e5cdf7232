"""Each patient's record version (`PatientVersion`) and each clinic's reference version
(`ReferenceVersion`), kept by the database.

Triggers add one to a patient's number in the writing transaction whenever a row of theirs changes
that their record page, their FHIR bundle, their forecast chart or a proposal of their plan's
series shows or is drawn from (appointments, consultations, plans, sessions with their areas and
addenda, grades, check-ins, portal answers, an erasure asked for, photos, consents, reminders,
the safety gate's overrides and rechecks), whatever wrote it; and one to a clinic's number
whenever a row changes that those pages show of the clinic's own (its locations, its staff and their names, its outcome
parameter sets, external ids given by an import). The patient's own row and the clinic's are not
counted: the pages key what they keep by those rows themselves.

A user's row counts only where a shown column changes: a sign-in writes `last_login`, and the
password, the join date and the admin site's flags are read with the row but shown nowhere.

PostgreSQL: statement-level triggers over their transition tables (one upsert per statement,
whatever its number of rows), and a row-level one for the user's columns. Each first locks the
same clinics' schedule version rows (migration 0029), in order of clinic, as the recall version's
do (0031): every transaction that counts any of the four numbers takes its clinic's schedule row
first, so no two can wait for each other in a circle (a session charted and then its
appointment's status moved, beside a booking of the same patient's).
SQLite: row-level triggers. The patients and clinics already there start from the time of the
migration in microseconds (one made later, from 1).

Self-contained on purpose, as 0029 and 0031 are: a migration must go on doing what it did when it
was written. Tests read the tables below (`PATIENT_ROWS`, `REFERENCE_ROWS`, `REFERENCE_COLUMNS`)
to hold the pages to reading nothing else.
"""

import time

from django.db import migrations, models

PATIENT_VERSION = "clinic_patientversion"
REFERENCE_VERSION = "clinic_referenceversion"
SCHEDULE = "clinic_scheduleversion"
_OF_SESSION = "(SELECT s.patient_id FROM clinic_treatmentsession s WHERE s.id = {row}.session_id)"

# table: the patient of one of its rows, written with "{row}" for the row
PATIENT_ROWS = {
    "clinic_appointment": "{row}.patient_id",
    "clinic_consultation": "{row}.patient_id",
    "clinic_treatmentplan": "{row}.patient_id",
    "clinic_treatmentsession": "{row}.patient_id",
    "clinic_sessionarea": _OF_SESSION,
    "clinic_sessionaddendum": _OF_SESSION,
    "clinic_followupgrade": "{row}.patient_id",
    "clinic_checkin": "{row}.patient_id",
    "clinic_portalintake": "{row}.patient_id",
    "clinic_erasurerequest": "{row}.patient_id",
    "clinic_photo": "{row}.patient_id",
    "clinic_consentrecord": "{row}.patient_id",
    "clinic_reminder": "{row}.patient_id",
    "clinic_safetyoverride": "{row}.patient_id",
    "clinic_screeningrecheck": "{row}.patient_id",
}
# table: the clinic of one of its rows
REFERENCE_ROWS = {
    "clinic_location": "{row}.clinic_id",
    "clinic_staffmember": "{row}.clinic_id",
    "clinic_outcomeparameterset": "{row}.clinic_id",
    "api_externalid": "{row}.clinic_id",
}
# table: (its clinic, the columns whose change counts, the columns read but shown nowhere):
# updates only (a user is shown only as a member of staff, whose own row counts their arrival).
REFERENCE_COLUMNS = {
    "auth_user": (
        "(SELECT s.clinic_id FROM clinic_staffmember s WHERE s.user_id = {row}.id)",
        ("username", "first_name", "last_name", "email", "is_active"),
        ("password", "last_login", "date_joined", "is_staff", "is_superuser"),
    ),
}
EVENTS = {"insert": ("new_rows",), "delete": ("old_rows",), "update": ("old_rows", "new_rows")}
TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _add_one_postgres(version: str, key: str, ids: str, clinics: str) -> str:
    """Add one to the number of each of `ids` (a query of one column, `c`) in `version`, in order,
    having first locked the schedule version rows of `clinics` (a query of their ids), in order."""
    return f"""PERFORM 1 FROM {SCHEDULE} s WHERE s.clinic_id IN ({clinics})
            ORDER BY s.clinic_id FOR NO KEY UPDATE;
        INSERT INTO {version} ({key}, n) SELECT c, 1 FROM ({ids}) AS changed ORDER BY c
            ON CONFLICT ({key}) DO UPDATE SET n = {version}.n + 1;"""


def _patients(ids: str) -> tuple[str, str, str, str]:
    clinics = f"SELECT p.clinic_id FROM clinic_patient p WHERE p.id IN ({ids})"
    return PATIENT_VERSION, "patient_id", ids, clinics


def _clinics(ids: str) -> tuple[str, str, str, str]:
    return REFERENCE_VERSION, "clinic_id", ids, ids


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
    whole = [(t, e, _patients) for t, e in PATIENT_ROWS.items()]
    whole += [(t, e, _clinics) for t, e in REFERENCE_ROWS.items()]
    for table, of_row, counted in whole:
        for event, tables in EVENTS.items():
            name = f"{table}_record_{event}"
            union = " UNION ".join(
                f"SELECT {of_row.format(row='r')} AS c FROM {t} AS r" for t in tables
            )
            ids = f"SELECT DISTINCT c FROM ({union}) AS u WHERE c IS NOT NULL"
            made, undone = _function_and_trigger(
                table,
                name,
                _add_one_postgres(*counted(ids)),
                f"""CREATE TRIGGER {name} AFTER {event.upper()} ON {table}
    REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}();""",
            )
            forwards += made
            backwards += undone
    for table, (clinic, columns, _) in REFERENCE_COLUMNS.items():
        name = f"{table}_record_update"
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        both = ", ".join(f"({clinic.format(row=w)})" for w in ("OLD", "NEW"))
        ids = f"SELECT DISTINCT c FROM (VALUES {both}) AS v(c) WHERE c IS NOT NULL"
        made, undone = _function_and_trigger(
            table,
            name,
            _add_one_postgres(*_clinics(ids)),
            f"""CREATE TRIGGER {name} AFTER UPDATE OF {", ".join(columns)} ON {table}
    FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {name}();""",
        )
        forwards += made
        backwards += undone
    return forwards, backwards


def _add_one_sqlite(version: str, key: str, value: str) -> str:
    # An upsert from a SELECT needs its WHERE (SQLite's parser), which also skips no value.
    return f"""INSERT INTO {version} ({key}, n) SELECT {value}, 1 WHERE {value} IS NOT NULL
        ON CONFLICT ({key}) DO UPDATE SET n = n + 1;"""


def _sqlite() -> tuple[list[str], list[str]]:
    forwards, backwards = [], []
    rows = {"insert": ("NEW",), "delete": ("OLD",), "update": ("OLD", "NEW")}
    whole = [(t, e, PATIENT_VERSION, "patient_id") for t, e in PATIENT_ROWS.items()]
    whole += [(t, e, REFERENCE_VERSION, "clinic_id") for t, e in REFERENCE_ROWS.items()]
    for table, of_row, version, key in whole:
        for event, which in rows.items():
            name = f"{table}_record_{event}"
            body = "\n        ".join(
                _add_one_sqlite(version, key, of_row.format(row=w)) for w in which
            )
            forwards.append(
                f"""CREATE TRIGGER {name} AFTER {event.upper()} ON {table}
    BEGIN
        {body}
    END;"""
            )
            backwards.append(f"DROP TRIGGER IF EXISTS {name};")
    for table, (clinic, columns, _) in REFERENCE_COLUMNS.items():
        name = f"{table}_record_update"
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        body = "\n        ".join(
            _add_one_sqlite(REFERENCE_VERSION, "clinic_id", clinic.format(row=w))
            for w in ("OLD", "NEW")
        )
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
        raise RuntimeError(f"no record version triggers for {schema_editor.connection.vendor}")
    for sql in chosen[0]:
        schema_editor.execute(sql)
    # From the time in microseconds, not 0: a number given before (this migration undone and
    # done again) would find what was kept under it.
    start = int(time.time() * 1_000_000)
    schema_editor.execute(
        f"INSERT INTO {PATIENT_VERSION} (patient_id, n) SELECT id, %s FROM clinic_patient", [start]
    )
    schema_editor.execute(
        f"INSERT INTO {REFERENCE_VERSION} (clinic_id, n) SELECT id, %s FROM clinic_clinic", [start]
    )


def backwards(apps, schema_editor):
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ((), ()))[1]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0032_patient_phone_grams"),
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="PatientVersion",
            fields=[
                ("patient_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("n", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="ReferenceVersion",
            fields=[
                ("clinic_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("n", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
