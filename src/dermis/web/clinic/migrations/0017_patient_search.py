"""Patient search: accent-free names and E.164 phones stored on Patient (filled here for existing
rows), their indexes (GIN trigram on PostgreSQL, b-tree everywhere), the clinic's country for
reading phone numbers, merged records, and a (clinic, start) index on appointments."""

import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

import dermis.web.clinic.clock
from dermis.web.clinic.patients import normalise

TRIGRAM_INDEXES = (
    ("search_name", "clinic_patient_search_name_trgm"),
    ("phone_normalised", "clinic_patient_phone_trgm"),
)


def fill_normalised(apps, schema_editor):
    Patient = apps.get_model("clinic", "Patient")
    batch = []
    for p in Patient.objects.select_related("clinic").iterator(chunk_size=1000):
        p.search_name = normalise.search_name(p.given_name, p.family_name)
        p.phone_normalised = normalise.phone(p.phone, p.clinic.country)
        batch.append(p)
        if len(batch) == 1000:
            Patient.objects.bulk_update(batch, ["search_name", "phone_normalised"])
            batch = []
    Patient.objects.bulk_update(batch, ["search_name", "phone_normalised"])


def _trigram_indexes():
    return [GinIndex(fields=[f], name=n, opclasses=["gin_trgm_ops"]) for f, n in TRIGRAM_INDEXES]


def add_trigram_indexes(apps, schema_editor):
    # PostgreSQL only: `contains` on these columns becomes an index scan (LIKE '%x%' with
    # pg_trgm). SQLite keeps the b-tree indexes declared on the model.
    if schema_editor.connection.vendor != "postgresql":
        return
    Patient = apps.get_model("clinic", "Patient")
    for index in _trigram_indexes():
        schema_editor.add_index(Patient, index)


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Patient = apps.get_model("clinic", "Patient")
    for index in _trigram_indexes():
        schema_editor.remove_index(Patient, index)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0016_diary"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PatientMerge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("merged_id", models.BigIntegerField(unique=True)),
                (
                    "demographics",
                    models.JSONField(default=dict, help_text="the merged-away record as it was"),
                ),
                ("merged_at", models.DateTimeField(default=dermis.web.clinic.clock.now)),
            ],
            options={
                "ordering": ["-merged_at", "-pk"],
            },
        ),
        migrations.AddField(
            model_name="clinic",
            name="country",
            field=models.CharField(
                blank=True,
                default="GB",
                help_text="ISO 3166 code: the region phone numbers are read in when typed without + (GB when empty)",
                max_length=2,
            ),
        ),
        migrations.AddField(
            model_name="patient",
            name="phone_normalised",
            field=models.CharField(blank=True, default="", editable=False, max_length=40),
        ),
        migrations.AddField(
            model_name="patient",
            name="search_name",
            field=models.CharField(blank=True, default="", editable=False, max_length=210),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(fields=["clinic", "start"], name="clinic_appo_clinic__3d5670_idx"),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=["clinic", "search_name"], name="clinic_pati_clinic__de6b25_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=["clinic", "phone_normalised"], name="clinic_pati_clinic__184fd1_idx"
            ),
        ),
        migrations.AddField(
            model_name="patientmerge",
            name="clinic",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="clinic.clinic"
            ),
        ),
        migrations.AddField(
            model_name="patientmerge",
            name="kept",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="merged_from",
                to="clinic.patient",
            ),
        ),
        migrations.AddField(
            model_name="patientmerge",
            name="merged_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(fill_normalised, migrations.RunPython.noop),
        TrigramExtension(),  # does nothing on SQLite
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes),
    ]
