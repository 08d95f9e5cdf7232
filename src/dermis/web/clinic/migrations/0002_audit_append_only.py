"""The audit table refuses UPDATE at the database, whatever code path tries it."""

from django.db import migrations

SQLITE = """
CREATE TRIGGER clinic_auditevent_no_update BEFORE UPDATE ON clinic_auditevent
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS clinic_auditevent_no_update;"

POSTGRES = """
CREATE OR REPLACE FUNCTION clinic_auditevent_refuse() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER clinic_auditevent_no_update BEFORE UPDATE ON clinic_auditevent
FOR EACH ROW EXECUTE FUNCTION clinic_auditevent_refuse();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS clinic_auditevent_no_update ON clinic_auditevent;
DROP FUNCTION IF EXISTS clinic_auditevent_refuse();
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
