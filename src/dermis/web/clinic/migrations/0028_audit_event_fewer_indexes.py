"""The audit trail drops two indexes no read uses: `at` alone and `clinic` alone. Every read by
time is a clinic's and goes through (clinic, at, id) or (clinic, username, at, id), which also
serve a read by clinic; each index kept costs every event's INSERT (a recall list writes a
hundred events a view). Dropped by name, not by altering the fields: on SQLite an altered field
rebuilds the table, which would drop its append-only triggers."""

import django.db.models.deletion
from django.db import migrations, models

import dermis.web.clinic.clock

INDEXES = {
    "clinic_auditevent_at_48dab00e": "at",
    "clinic_auditevent_clinic_id_1f8a790d": "clinic_id",
}


class Migration(migrations.Migration):
    dependencies = [("clinic", "0027_patient_tally")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="at",
                    field=models.DateTimeField(default=dermis.web.clinic.clock.now),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="clinic",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="audit_events",
                        to="clinic.clinic",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    reverse_sql=f"CREATE INDEX {name} ON clinic_auditevent ({column})",
                )
                for name, column in INDEXES.items()
            ],
        )
    ]
