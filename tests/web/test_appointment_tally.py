"""The appointment tally the database keeps (migration 0025) agrees with counting the rows after
every kind of write: the services, a bulk load, a raw update, a move between clinics, deletions;
and the API's appointment list counts from it, giving what counting would."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from dermis.web.clinic.models import Appointment, AppointmentTally
from dermis.web.clinic.scheduling import selectors, services
from tests import factories

URL = "/api/v1/appointments"
tally_migration = importlib.import_module("dermis.web.clinic.migrations.0025_appointment_tally")


@pytest.fixture(autouse=True)
def hours(world):
    factories.working_hours(world.pat, days=range(7))
    factories.working_hours(world.oscar, days=range(7))


def counted() -> dict[tuple[int, str], int]:
    rows = Appointment.objects.values("clinic_id", "status").annotate(n=Count("pk"))
    return {(r["clinic_id"], r["status"]): r["n"] for r in rows.order_by()}


def tallied() -> dict[tuple[int, str], int]:
    rows = AppointmentTally.objects.values_list("clinic_id", "status", "n")
    return {(clinic, status): n for clinic, status, n in rows if n}


def _book(world, days: int, who=None, staff=None):
    staff = staff or world.pat
    return factories.appointment(staff, who or world.nora, factories.next_weekday_at(10, days))


def test_every_kind_of_write_keeps_the_tally_equal_to_counting(world):
    booked = [_book(world, days) for days in range(1, 6)]
    _book(world, 1, world.rhys, world.oscar)
    assert (
        tallied()
        == counted()
        == {
            (world.northgate.pk, "booked"): 5,
            (world.riverside.pk, "booked"): 1,
        }
    )

    actor = factories.actor(world.pat)
    services.cancel_appointment(actor, booked[0], reason="unwell")
    services.move_appointment(actor, booked[1], start=booked[1].start + timedelta(hours=2))
    assert tallied() == counted()
    assert tallied()[(world.northgate.pk, "cancelled")] == 1

    # a raw update of the status (as the booking code writes some), of nothing that counts,
    # and of the clinic
    Appointment.objects.filter(pk=booked[2].pk).update(status="confirmed")
    Appointment.objects.filter(pk=booked[3].pk).update(notes="parking at the back")
    Appointment.objects.filter(pk=booked[4].pk).update(clinic=world.riverside)
    assert tallied() == counted()

    # a bulk load, in one statement, into both clinics
    start = timezone.now() + timedelta(days=60)
    Appointment.objects.bulk_create(
        Appointment(
            clinic=clinic,
            patient=who,
            practitioner=staff,
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i, minutes=30),
            status=status,
        )
        for i, (clinic, who, staff, status) in enumerate(
            [(world.northgate, world.nora, world.pat, "completed")] * 3
            + [(world.riverside, world.rhys, world.oscar, "no_show")] * 2
        )
    )
    assert tallied() == counted()
    assert tallied()[(world.riverside.pk, "no_show")] == 2

    # deletions: one, then many at once
    booked[1].delete()
    Appointment.objects.filter(status="completed").delete()
    assert tallied() == counted()
    assert (world.northgate.pk, "completed") not in tallied()


class _Editor:
    """What the migration's functions use of a schema editor, on the test's own transaction
    (SQLite's schema editor cannot open inside one)."""

    connection = connection

    def execute(self, sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_the_migration_starts_the_tally_from_the_appointments_there(world):
    for days in range(1, 4):
        _book(world, days)
    _book(world, 1, world.rhys, world.oscar)
    tally_migration.backwards(None, _Editor())  # the triggers go
    AppointmentTally.objects.all().delete()
    _book(world, 4)  # unseen: no trigger
    assert tallied() == {}
    tally_migration.forwards(None, _Editor())
    assert (
        tallied()
        == counted()
        == {
            (world.northgate.pk, "booked"): 4,
            (world.riverside.pk, "booked"): 1,
        }
    )
    _book(world, 5)  # and the triggers count again
    assert tallied()[(world.northgate.pk, "booked")] == 5


def test_the_api_list_counts_from_the_tally_as_counting_would(world, api_as):
    booked = [_book(world, days) for days in range(1, 5)]
    _book(world, 1, world.rhys, world.oscar)  # another clinic's
    services.cancel_appointment(factories.actor(world.pat), booked[0], reason="unwell")
    api = api_as("fran")
    for query, expected in [
        ("", 4),
        ("?status=booked", 3),
        ("?status=cancelled", 1),
        ("?status=no_show", 0),
        ("?limit=1", 4),
        (f"?patient_id={world.nora.pk}&status=booked", 3),
        (f"?date_from={booked[1].start.date()}", 3),
    ]:
        body = api.get(URL + query).json()
        assert body["count"] == expected, query
    assert selectors.appointment_count(world.northgate) == 4
    assert selectors.appointment_count(world.riverside, "booked") == 1


def test_the_api_count_is_one_small_read_however_long_the_history(world, api_as):
    from django.test.utils import CaptureQueriesContext

    _book(world, 1)
    api = api_as("fran")
    api.get(URL)  # warm
    with CaptureQueriesContext(connection) as seen:
        assert api.get(URL).status_code == 200
    counts = [q["sql"] for q in seen.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts == []
    assert any("clinic_appointmenttally" in q["sql"] for q in seen.captured_queries)
