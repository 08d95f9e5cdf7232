"""The patients an audit event lists where it is about several (a list page's view): one event and
its patients beside it, instead of one event per patient. Append-only, as the events are."""

import django.db.models.deletion
from django.db import migrations, models

from dermis.web.clinic import audit_triggers


def install_triggers(apps, schema_editor):
    audit_triggers.install(schema_editor, table=audit_triggers.LISTED_TABLE)


def remove_triggers(apps, schema_editor):
    audit_triggers.remove(schema_editor, table=audit_triggers.LISTED_TABLE)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0029_schedule_version")]

    operations = [
        migrations.CreateModel(
            name="AuditEventPatient",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("patient_id_ref", models.BigIntegerField()),
                (
                    "event",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="listed",
                        to="clinic.auditevent",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["patient_id_ref", "event"], name="audit_listed_patient")
                ],
            },
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
