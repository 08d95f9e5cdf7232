"""Each clinic's count of appointments by status, kept by the database (`AppointmentTally`).

Triggers on `clinic_appointment` add and take away in the writing transaction, whatever wrote the
rows. PostgreSQL: one statement-level trigger per event over its transition tables, so a bulk load
costs one grouped upsert per statement, not one per row. SQLite: row-level triggers. A deletion
only takes away (it never inserts), so a clinic's tally rows deleted in the same cascade are no
obstacle. The tally starts from the appointments already there.
"""

import django.db.models.deletion
from django.db import migrations, models

from dermis.web.clinic import tally_triggers

TALLY = "clinic_appointmenttally"

SQLITE = [
    f"""CREATE TRIGGER clinic_appointment_tally_insert AFTER INSERT ON clinic_appointment
    BEGIN
        INSERT INTO {TALLY} (clinic_id, status, n) VALUES (NEW.clinic_id, NEW.status, 1)
        ON CONFLICT (clinic_id, status) DO UPDATE SET n = n + 1;
    END;""",
    f"""CREATE TRIGGER clinic_appointment_tally_delete AFTER DELETE ON clinic_appointment
    BEGIN
        UPDATE {TALLY} SET n = n - 1 WHERE clinic_id = OLD.clinic_id AND status = OLD.status;
    END;""",
    f"""CREATE TRIGGER clinic_appointment_tally_update
    AFTER UPDATE OF clinic_id, status ON clinic_appointment
    WHEN OLD.clinic_id <> NEW.clinic_id OR OLD.status <> NEW.status
    BEGIN
        UPDATE {TALLY} SET n = n - 1 WHERE clinic_id = OLD.clinic_id AND status = OLD.status;
        INSERT INTO {TALLY} (clinic_id, status, n) VALUES (NEW.clinic_id, NEW.status, 1)
        ON CONFLICT (clinic_id, status) DO UPDATE SET n = n + 1;
    END;""",
]
SQLITE_REVERSE = tally_triggers.sqlite_reverse("clinic_appointment")

# Add the grouped changes in `change(clinic_id, status, n)` (n may be negative).
_ADD = f"""INSERT INTO {TALLY} (clinic_id, status, n) SELECT clinic_id, status, n FROM change
        ON CONFLICT (clinic_id, status) DO UPDATE SET n = {TALLY}.n + EXCLUDED.n;"""

POSTGRES = [
    f"""CREATE FUNCTION clinic_appointment_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        WITH change AS (
            SELECT clinic_id, status, count(*) AS n FROM new_rows GROUP BY clinic_id, status)
        {_ADD}
        RETURN NULL;
    END $$;""",
    f"""CREATE FUNCTION clinic_appointment_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {TALLY} t SET n = t.n - gone.n
        FROM (SELECT clinic_id, status, count(*) AS n FROM old_rows GROUP BY clinic_id, status)
            AS gone
        WHERE t.clinic_id = gone.clinic_id AND t.status = gone.status;
        RETURN NULL;
    END $$;""",
    f"""CREATE FUNCTION clinic_appointment_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        WITH change AS (
            SELECT clinic_id, status, sum(n) AS n FROM (
                SELECT clinic_id, status, count(*) AS n FROM new_rows GROUP BY clinic_id, status
                UNION ALL
                SELECT clinic_id, status, -count(*) FROM old_rows GROUP BY clinic_id, status
            ) AS moved
            GROUP BY clinic_id, status HAVING sum(n) <> 0)
        {_ADD}
        RETURN NULL;
    END $$;""",
    *tally_triggers.postgres_triggers("clinic_appointment"),
]
POSTGRES_REVERSE = tally_triggers.postgres_reverse("clinic_appointment")

FILL = f"""INSERT INTO {TALLY} (clinic_id, status, n)
    SELECT clinic_id, status, count(*) FROM clinic_appointment GROUP BY clinic_id, status;"""


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}
    tally_triggers.install(schema_editor, statements, FILL, "appointment tally")


def backwards(apps, schema_editor):
    tally_triggers.remove(schema_editor, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("clinic", "0024_follow_up_open_index")]

    operations = [
        migrations.CreateModel(
            name="AppointmentTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("status", models.CharField(max_length=20)),
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
                    models.UniqueConstraint(
                        fields=("clinic", "status"), name="appointment_tally_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
