"""The audit trail becomes a keyed hash chain, and refuses DELETE and TRUNCATE as well as UPDATE.

Existing events are chained here in id order (the append-only trigger is lifted for that step
only), so `dermis audit verify` covers the whole trail from the first event.
"""

from django.db import migrations, models

from dermis.web.clinic import audit_triggers

GENESIS = "0" * 64


def lift_triggers(apps, schema_editor):
    audit_triggers.remove(schema_editor)


def install_triggers(apps, schema_editor):
    audit_triggers.install(schema_editor)


def restore_update_trigger_only(apps, schema_editor):
    """Back to migration 0002's state: UPDATE refused, DELETE and TRUNCATE not."""
    audit_triggers.remove(schema_editor)
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(audit_triggers.SQLITE_CREATE[0])
    elif vendor == "postgresql":
        schema_editor.execute(audit_triggers.POSTGRES_CREATE[0])
        schema_editor.execute(audit_triggers.POSTGRES_CREATE[2])


def chain_existing(apps, schema_editor):
    from dermis.web.clinic.audit_chain import link

    events = apps.get_model("clinic", "AuditEvent")
    heads = apps.get_model("clinic", "AuditChainHead")
    previous, seq = GENESIS, 0
    for event in events.objects.order_by("id").iterator(chunk_size=2000):
        seq += 1
        event.seq = seq
        event.chain_hash = link(previous, event)
        events.objects.filter(pk=event.pk).update(seq=seq, chain_hash=event.chain_hash)
        previous = event.chain_hash
    heads.objects.update_or_create(pk=1, defaults={"seq": seq, "last_hash": previous})


class Migration(migrations.Migration):
    dependencies = [("clinic", "0010_tamper_evidence")]

    operations = [
        migrations.RunPython(lift_triggers, restore_update_trigger_only),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.BigIntegerField(default=0)),
                ("last_hash", models.CharField(default=GENESIS, max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("seq__isnull", False)),
                fields=("seq",),
                name="audit_seq_unique",
            ),
        ),
        migrations.RunPython(install_triggers, restore_update_trigger_only),
    ]
