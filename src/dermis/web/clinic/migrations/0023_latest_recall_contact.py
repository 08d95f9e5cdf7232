"""Each patient's newest recall contact, pointed at by a row of its own (the worklist joins it);
filled from the contacts logged so far, newest by `at`, then id."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    latest = apps.get_model("clinic", "LatestRecallContact")._meta.db_table
    contact = apps.get_model("clinic", "RecallContact")._meta.db_table
    schema_editor.execute(
        f"INSERT INTO {latest} (patient_id, contact_id) SELECT c.patient_id, c.id FROM {contact} c"
        f" WHERE NOT EXISTS (SELECT 1 FROM {contact} d WHERE d.patient_id = c.patient_id"
        " AND (d.at > c.at OR (d.at = c.at AND d.id > c.id)))"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0022_audit_log_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="LatestRecallContact",
            fields=[
                (
                    "patient",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="latest_recall_contact",
                        serialize=False,
                        to="clinic.patient",
                    ),
                ),
                (
                    "contact",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="clinic.recallcontact",
                    ),
                ),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
