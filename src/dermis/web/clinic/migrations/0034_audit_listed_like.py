"""An audit event about several patients may list them like an earlier event (`listed_like`):
a list page viewed again with the same patients writes its event without writing them again.
Only events that do are indexed (a partial index), for a patient's events to be found from the
earlier one's. A nullable column with no default: SQLite adds it without rebuilding the table,
so the trail's append-only triggers stay."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0033_record_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="listed_like",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("listed_like__isnull", False)),
                fields=["listed_like"],
                name="audit_listed_like",
            ),
        ),
    ]
