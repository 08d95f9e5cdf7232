"""Each clinic's count of patients, kept by the database (`PatientTally`), as the appointments'
is (migration 0025).

Triggers on `clinic_patient` add and take away in the writing transaction, whatever wrote the
rows. PostgreSQL: one statement-level trigger per event over its transition tables, so a bulk load
costs one grouped upsert per statement, not one per row. SQLite: row-level triggers. A deletion
only takes away (it never inserts). The tally starts from the patients already there.
"""

import django.db.models.deletion
from django.db import migrations, models

from dermis.web.clinic import tally_triggers

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
SQLITE_REVERSE = tally_triggers.sqlite_reverse("clinic_patient")

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
    *tally_triggers.postgres_triggers("clinic_patient"),
]
POSTGRES_REVERSE = tally_triggers.postgres_reverse("clinic_patient")

FILL = f"""INSERT INTO {TALLY} (clinic_id, n)
    SELECT clinic_id, count(*) FROM clinic_patient GROUP BY clinic_id;"""


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}
    tally_triggers.install(schema_editor, statements, FILL, "patient tally")


def backwards(apps, schema_editor):
    tally_triggers.remove(schema_editor, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE})


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
