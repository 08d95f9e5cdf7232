"""One notice period: the portal's own `PortalSettings.notice_hours` is removed; the portal keeps to
the clinic's `Clinic.cancel_notice_hours`.

The data step, before the column goes: a clinic whose portal row held a value other than the
default 24 hours, and whose own notice period is still the default 24, takes the portal's value.
A clinic that had already set its own notice period keeps it (the value the staff set on the
closures page wins); a portal value of 24 changes nothing.
"""

from django.db import migrations

DEFAULT_HOURS = 24


def copy_portal_notice(apps, schema_editor):
    PortalSettings = apps.get_model("clinic", "PortalSettings")
    Clinic = apps.get_model("clinic", "Clinic")
    for row in PortalSettings.objects.exclude(notice_hours=DEFAULT_HOURS):
        Clinic.objects.filter(pk=row.clinic_id, cancel_notice_hours=DEFAULT_HOURS).update(
            cancel_notice_hours=row.notice_hours
        )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0018_portal_checkin_days"),
    ]

    operations = [
        migrations.RunPython(copy_portal_notice, migrations.RunPython.noop),
        migrations.RemoveField(model_name="portalsettings", name="notice_hours"),
    ]
