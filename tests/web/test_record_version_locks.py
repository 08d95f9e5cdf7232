"""Migration 0033's numbers under concurrent writers and a migration undone: every trigger that
moves a patient's or a clinic's record number first takes the clinic's schedule version row, as
the recall version's do, so two writers never wait for each other in a circle; and undoing the
migration and doing it again never gives a number twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dermis.web.clinic.models import Appointment, FollowUpGrade, Patient
from dermis.web.clinic.patients import record_version
from tests import factories
from tests.web.concurrent_writers import second_waits_then_both_commit
from tests.web.test_notice_period_migration import back_to_the_latest  # noqa: F401


def _numbers(world) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n FROM clinic_patientversion WHERE patient_id = %s", [world.nora.pk])
        mine = cursor.fetchone()
        cursor.execute(
            "SELECT n FROM clinic_referenceversion WHERE clinic_id = %s", [world.northgate.pk]
        )
        theirs = cursor.fetchone()
    return (mine[0] if mine else 0, theirs[0] if theirs else 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_a_patients_writers_take_the_clinics_schedule_row_first_and_never_deadlock(world):
    """A transaction that grades a patient and then moves one of their appointments, beside one
    that moves another of their appointments meanwhile: the second waits for the first (the
    grade's trigger took the schedule row first), where taking the patient's row first would
    make each wait for the other (the appointment's triggers take the schedule row, then the
    recall row, then the patient's)."""
    factories.working_hours(world.pat)
    start = factories.next_weekday_at(10, days_ahead=5)
    first = factories.appointment(world.pat, world.nora, start)
    second = factories.appointment(world.pat, world.nora, start + timedelta(hours=2))
    before = _numbers(world)
    failed = second_waits_then_both_commit(
        (
            "INSERT INTO clinic_followupgrade (patient_id, area, concern, grade, baseline,"
            " graded_on, notes) VALUES (%s, 'cheeks', 'acne_scars_rolling', 2, 3, CURRENT_DATE,"
            " '')",
            [world.nora.pk],
        ),
        ("UPDATE clinic_appointment SET notes = 'b' WHERE id = %s", [second.pk]),
        ("UPDATE clinic_appointment SET notes = 'a' WHERE id = %s", [first.pk]),
    )
    assert not failed, failed
    notes = dict(
        Appointment.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "notes")
    )
    assert notes == {first.pk: "a", second.pk: "b"}
    assert FollowUpGrade.objects.filter(patient=world.nora).count() == 1
    assert _numbers(world)[0] > before[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest")
def test_migration_0033_undone_and_done_again_never_gives_a_number_twice(world):
    from django.db.migrations.executor import MigrationExecutor

    start = timezone.now() + timedelta(days=3)
    made = Appointment.objects.create(
        clinic=world.northgate, patient=world.nora, practitioner=world.pat,
        start=start, end=start + timedelta(hours=1),
    )  # fmt: skip
    world.northgate.locations.update(name="Renamed")
    before = _numbers(world)
    executor = MigrationExecutor(connection)
    executor.migrate([("clinic", "0032_patient_phone_grams")])
    with connection.cursor() as cursor:  # no triggers are left behind to write to nothing
        cursor.execute("UPDATE clinic_appointment SET notes = 'x' WHERE id = %s", [made.pk])
        cursor.execute("UPDATE clinic_location SET name = name || '.'")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("clinic", "0033_record_versions")])
    again = _numbers(world)
    assert again[0] > before[0] and again[1] > before[1]
    Appointment.objects.filter(pk=made.pk).update(notes="y")  # the triggers are back
    world.northgate.locations.update(name="Renamed again")
    now = _numbers(world)
    assert now[0] > again[0] and now[1] > again[1]
    assert Patient.objects.filter(pk=world.nora.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_patient_made_after_the_migration_starts_from_nothing_and_counts_up(world):
    factories.working_hours(world.pat)
    patient = factories.patient(world.pat, "Ada", "Later")
    assert record_version.of(patient.pk, world.northgate.pk)[0] == 0
    factories.appointment(world.pat, patient, factories.next_weekday_at(10, days_ahead=6))
    assert record_version.of(patient.pk, world.northgate.pk)[0] > 0
