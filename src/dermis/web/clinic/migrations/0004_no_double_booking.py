"""No practitioner, room or device in two overlapping appointments, enforced by the database.

PostgreSQL: exclusion constraints over a half-open time range (btree_gist for the `=` parts).
SQLite: triggers that abort the write; writes are serialised (BEGIN IMMEDIATE), so two bookings
cannot both pass the check. A cancelled appointment holds nothing.
"""

from django.db import migrations

OVERLAP = """a.status <> 'cancelled' AND a.start < NEW."end" AND NEW.start < a."end" AND (
    a.practitioner_id = NEW.practitioner_id
    OR (NEW.room_id IS NOT NULL AND a.room_id = NEW.room_id)
    OR (NEW.equipment_id IS NOT NULL AND a.equipment_id = NEW.equipment_id))"""

SQLITE = [
    f"""CREATE TRIGGER clinic_appointment_no_overlap_insert BEFORE INSERT ON clinic_appointment
    WHEN NEW.status <> 'cancelled' AND EXISTS (SELECT 1 FROM clinic_appointment a WHERE {OVERLAP})
    BEGIN SELECT RAISE(ABORT, 'slot taken'); END;""",
    f"""CREATE TRIGGER clinic_appointment_no_overlap_update BEFORE UPDATE ON clinic_appointment
    WHEN NEW.status <> 'cancelled' AND EXISTS (
        SELECT 1 FROM clinic_appointment a WHERE a.id <> NEW.id AND {OVERLAP})
    BEGIN SELECT RAISE(ABORT, 'slot taken'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS clinic_appointment_no_overlap_insert;",
    "DROP TRIGGER IF EXISTS clinic_appointment_no_overlap_update;",
]


def _exclude(name: str, column: str, extra: str = "") -> str:
    return (
        f"ALTER TABLE clinic_appointment ADD CONSTRAINT {name} EXCLUDE USING gist "
        f"({column} WITH =, tstzrange(start, \"end\", '[)') WITH &&) "
        f"WHERE (status <> 'cancelled'{extra});"
    )


POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist;",
    _exclude("appt_no_practitioner_overlap", "practitioner_id"),
    _exclude("appt_no_room_overlap", "room_id", " AND room_id IS NOT NULL"),
    _exclude("appt_no_equipment_overlap", "equipment_id", " AND equipment_id IS NOT NULL"),
]
POSTGRES_REVERSE = [
    f"ALTER TABLE clinic_appointment DROP CONSTRAINT IF EXISTS {name};"
    for name in (
        "appt_no_practitioner_overlap",
        "appt_no_room_overlap",
        "appt_no_equipment_overlap",
    )
]


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_REVERSE)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0003_scheduling")]
    operations = [migrations.RunPython(forwards, backwards)]
