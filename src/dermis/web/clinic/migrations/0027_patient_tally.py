"""Each clinic's count of patients, kept by the database (`PatientTally`), as the appointments'
is (migration 0025).

Triggers on `clinic_patient` add and take away in the writing transaction, whatever wrote the
rows. PostgreSQL: one statement-level trigger per event over its transition tables, so a bulk load
costs one grouped upsert per statement, not one per row. SQLite: row-level triggers. A deletion
only takes away (it never inserts). The tally starts from the patients already there.
"""

import django.db.models.deletion
from django.db import migrations, models

TALLY = "clinic_patienttally"

SQLITE = [
    f"""CREATE TRIGGER clinic_patient_tally_insert AFTER INSERT ON clinic_patient
    BEGIN
        INSERT INTO {TALLY} (clinic_id, n) VALUES (NEW.clinic_id, 1)
        ON CONFLICT (clinic_id) DO UPDATE SET n = n + 1;
    END;""",
    f"""CREATE TRIGGER clinic_patient_tally_delete AFTER DELETE ON clinic_patient
    BEGIN
        UPDATE {TALLY} SET n = n - 1 WHERE clinic_id = OLD.clinic_id;
    END;""",
    f"""CREATE TRIGGER clinic_patient_tally_update AFTER UPDATE OF clinic_id ON clinic_patient
    WHEN OLD.clinic_id <> NEW.clinic_id
    BEGIN
        UPDATE {TALLY} SET n = n - 1 WHERE clinic_id = OLD.clinic_id;
        INSERT INTO {TALLY} (clinic_id, n) VALUES (NEW.clinic_id, 1)
        ON CONFLICT (clinic_id) DO UPDATE SET n = n + 1;
    END;""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS clinic_patient_tally_{event};"
    for event in ("insert", "delete", "update")
]

# Add the grouped changes in `change(clinic_id, n)` (n may be negative).
_ADD = f"""INSERT INTO {TALLY} (clinic_id, n) SELECT clinic_id, n FROM change
        ON CONFLICT (clinic_id) DO UPDATE SET n = {TALLY}.n + EXCLUDED.n;"""

POSTGRES = [
    f"""CREATE FUNCTION clinic_patient_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        WITH change AS (SELECT clinic_id, count(*) AS n FROM new_rows GROUP BY clinic_id)
        {_ADD}
        RETURN NULL;
    END $$;""",
    f"""CREATE FUNCTION clinic_patient_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {TALLY} t SET n = t.n - gone.n
        FROM (SELECT clinic_id, count(*) AS n FROM old_rows GROUP BY clinic_id) AS gone
        WHERE t.clinic_id = gone.clinic_id;
        RETURN NULL;
    END $$;""",
    f"""CREATE FUNCTION clinic_patient_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        WITH change AS (
            SELECT clinic_id, sum(n) AS n FROM (
                SELECT clinic_id, count(*) AS n FROM new_rows GROUP BY clinic_id
                UNION ALL
                SELECT clinic_id, -count(*) FROM old_rows GROUP BY clinic_id
            ) AS moved
            GROUP BY clinic_id HAVING sum(n) <> 0)
        {_ADD}
        RETURN NULL;
    END $$;""",
    """CREATE TRIGGER clinic_patient_tally_insert AFTER INSERT ON clinic_patient
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION clinic_patient_tally_insert();""",
    """CREATE TRIGGER clinic_patient_tally_delete AFTER DELETE ON clinic_patient
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION clinic_patient_tally_delete();""",
    """CREATE TRIGGER clinic_patient_tally_update AFTER UPDATE ON clinic_patient
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION clinic_patient_tally_update();""",
]
POSTGRES_REVERSE = [
    stmt
    for event in ("insert", "delete", "update")
    for stmt in (
        f"DROP TRIGGER IF EXISTS clinic_patient_tally_{event} ON clinic_patient;",
        f"DROP FUNCTION IF EXISTS clinic_patient_tally_{event}();",
    )
]

FILL = f"""INSERT INTO {TALLY} (clinic_id, n)
    SELECT clinic_id, count(*) FROM clinic_patient GROUP BY clinic_id;"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(vendor)
    if statements is None:
        raise RuntimeError(f"no patient tally triggers for {vendor}")
    for sql in [*statements, FILL]:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0026_appointment_practitioner_pair_index_only")]

    operations = [
        migrations.CreateModel(
            name="PatientTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("n", models.BigIntegerField(default=0)),
                (
                    "clinic",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="clinic.clinic",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("clinic",), name="patient_tally_unique")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
