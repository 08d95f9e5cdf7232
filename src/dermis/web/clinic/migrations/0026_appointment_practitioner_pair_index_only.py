"""An appointment's practitioner loses its index of its own: the (practitioner, start) index
serves every lookup by practitioner. With both, the planner read a practitioner's whole history
through the single-column one to find a few months of it.

The index is dropped by name rather than by altering the field, which on SQLite rebuilds the
table and would lose the appointment tally's triggers (migration 0025)."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "clinic_appointment_practitioner_id_dfc601be"


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0025_appointment_tally"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="appointment",
                    name="practitioner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="appointments",
                        to="clinic.staffmember",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=(
                        f'CREATE INDEX IF NOT EXISTS "{INDEX}" '
                        'ON "clinic_appointment" ("practitioner_id")'
                    ),
                ),
            ],
        ),
    ]
