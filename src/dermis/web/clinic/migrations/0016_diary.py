"""The appointment lifecycle (confirmed, arrived, in treatment, completed; "done" becomes
"completed"), cancellation details and the clinic's notice period, public-holiday regions of
locations, and the clinic's own closure days."""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

no_double_booking = importlib.import_module("dermis.web.clinic.migrations.0004_no_double_booking")


def done_is_completed(apps, schema_editor):
    Appointment = apps.get_model("clinic", "Appointment")
    Appointment.objects.filter(status="done").update(status="completed")


def completed_is_done(apps, schema_editor):
    Appointment = apps.get_model("clinic", "Appointment")
    Appointment.objects.filter(status__in=("completed", "in_treatment", "arrived")).update(
        status="done"
    )
    Appointment.objects.filter(status="confirmed").update(status="booked")


def restore_sqlite_triggers(apps, schema_editor):
    # Altering the appointment table makes SQLite rebuild it, which drops its triggers.
    if schema_editor.connection.vendor == "sqlite":
        for sql in no_double_booking.SQLITE_REVERSE + no_double_booking.SQLITE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0015_messaging"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="cancel_reason",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="appointment",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="appointment",
            name="cancelled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="appointment",
            name="late_cancel",
            field=models.BooleanField(
                default=False, help_text="cancelled inside the clinic's notice period"
            ),
        ),
        migrations.AddField(
            model_name="clinic",
            name="cancel_notice_hours",
            field=models.PositiveSmallIntegerField(
                default=24,
                help_text="a cancellation with less notice than this is a late cancellation",
            ),
        ),
        migrations.AddField(
            model_name="location",
            name="country",
            field=models.CharField(
                blank=True, help_text="ISO country code for public holidays, e.g. GB", max_length=2
            ),
        ),
        migrations.AddField(
            model_name="location",
            name="subdivision",
            field=models.CharField(
                blank=True, help_text="region for public holidays, e.g. ENG or SCT", max_length=10
            ),
        ),
        migrations.AlterField(
            model_name="appointment",
            name="status",
            field=models.CharField(
                choices=[
                    ("booked", "Booked"),
                    ("confirmed", "Confirmed"),
                    ("arrived", "Arrived"),
                    ("in_treatment", "In treatment"),
                    ("completed", "Completed"),
                    ("cancelled", "Cancelled"),
                    ("no_show", "Did not attend"),
                ],
                default="booked",
                max_length=12,
            ),
        ),
        migrations.CreateModel(
            name="ClosureDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("reason", models.CharField(blank=True, max_length=100)),
                (
                    "clinic",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="closures",
                        to="clinic.clinic",
                    ),
                ),
                (
                    "location",
                    models.ForeignKey(
                        blank=True,
                        help_text="empty: every location",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="closures",
                        to="clinic.location",
                    ),
                ),
            ],
            options={
                "ordering": ["day"],
                "indexes": [
                    models.Index(fields=["clinic", "day"], name="clinic_clos_clinic__0cf1a1_idx")
                ],
            },
        ),
        migrations.RunPython(done_is_completed, completed_is_done),
        migrations.RunPython(restore_sqlite_triggers, restore_sqlite_triggers),
    ]
