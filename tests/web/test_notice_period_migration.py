"""Migration 0019 keeps one notice period: a clinic still on the default 24 hours takes its portal's
other value; a clinic that set its own keeps it; the portal column is gone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("clinic", "0018_portal_checkin_days")]
AFTER = [("clinic", "0019_one_notice_period")]


@pytest.fixture
def back_to_the_latest():
    """The test migrates back and forth: leave the database at the latest migrations again, for
    the tests that run after it in this process."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_portal_notice_moves_to_clinics_still_on_the_default(back_to_the_latest):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Clinic, PortalSettings = (
        old.get_model("clinic", "Clinic"),
        old.get_model("clinic", "PortalSettings"),
    )
    default = Clinic.objects.create(name="On the default", slug="default")
    own = Clinic.objects.create(name="Its own", slug="own", cancel_notice_hours=12)
    same = Clinic.objects.create(name="Portal on 24", slug="same")
    PortalSettings.objects.create(clinic=default, notice_hours=48)
    PortalSettings.objects.create(clinic=own, notice_hours=72)
    PortalSettings.objects.create(clinic=same, notice_hours=24)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps.get_model("clinic", "Clinic")
    hours = dict(new.objects.values_list("name", "cancel_notice_hours"))
    assert hours == {"On the default": 48, "Its own": 12, "Portal on 24": 24}
    with connection.cursor() as cursor:
        columns = [
            c.name
            for c in connection.introspection.get_table_description(cursor, "clinic_portalsettings")
        ]
    assert "notice_hours" not in columns and "enabled" in columns
