"""A practitioner's appointments are read through the (practitioner, start) index alone: with a
single-column index beside it, the planner read a practitioner's whole history to find a few
months of it (migration 0026, which keeps the appointment tally's triggers on both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dermis.web.clinic.models import Appointment
from dermis.web.clinic.scheduling import availability
from tests import factories
from tests.web.test_appointment_tally import _book, counted, tallied

PAIR = ("practitioner_id", "start")


def _constraints() -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, "clinic_appointment")


def _indexes() -> set[tuple[str, ...]]:
    found = _constraints().values()
    return {tuple(c["columns"]) for c in found if c["index"] and not c["primary_key"]}


def test_a_practitioners_appointments_are_indexed_by_the_pair_only(db):
    assert PAIR in _indexes()
    assert ("practitioner_id",) not in _indexes()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_busy_times_are_read_through_the_pair(world):
    start = timezone.now() + timedelta(days=28)
    with CaptureQueriesContext(connection) as seen:
        availability.build([world.pat], start, start + timedelta(days=120))
    (sql,) = [q["sql"] for q in seen.captured_queries if "clinic_appointment" in q["sql"]]
    pair = next(name for name, c in _constraints().items() if tuple(c["columns"]) == PAIR)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert pair in plan, plan


@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_both_ways_and_the_tally_still_counts(world, back_to_the_latest):
    factories.working_hours(world.pat)
    executor = MigrationExecutor(connection)
    executor.migrate([("clinic", "0025_appointment_tally")])
    assert ("practitioner_id",) in _indexes()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("clinic", "0026_appointment_practitioner_pair_index_only")])
    assert ("practitioner_id",) not in _indexes() and PAIR in _indexes()
    # Booked through the services, which write today's audit trail: at the latest migrations
    # (0026's indexes among them).
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    _book(world, 3)
    Appointment.objects.filter(clinic=world.northgate).update(status="confirmed")
    assert tallied() == counted() != {}
