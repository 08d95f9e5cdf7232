"""A patient's record page and FHIR bundle are kept by two numbers the database moves (migration
0033, `patients.record_version`): the patient's, whenever a row of theirs changes that the pages
show, and the clinic's, whenever a row of its own does. Each table those pages read is one the
triggers watch (or a row the pages key by itself), and a write to each moves the right number."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dermis.web.api.models import ExternalId
from dermis.web.clinic.models import (
    Appointment,
    CheckIn,
    ErasureRequest,
    OutcomeParameterSet,
    Patient,
    PortalIntake,
    Reminder,
    SafetyOverride,
    ScreeningRecheck,
)
from dermis.web.clinic.outcomes import forecasting, parameter_sets
from dermis.web.clinic.patients import record_version, views
from dermis.web.fhir import kept
from dermis.web.fhir.rest.resources import RestRefs
from tests.personas import stored_patient
from tests.web.full_world import journey
from tests.web.test_series_booking import _prefs as series_prefs
from tests.web.test_series_booking import bookable_plan

MIGRATION = importlib.import_module("dermis.web.clinic.migrations.0033_record_versions")
PATIENT_ROWS, REFERENCE_ROWS = MIGRATION.PATIENT_ROWS, MIGRATION.REFERENCE_ROWS
REFERENCE_COLUMNS = MIGRATION.REFERENCE_COLUMNS
WATCHED = {*PATIENT_ROWS, *REFERENCE_ROWS, *REFERENCE_COLUMNS}
# Keyed by their rows themselves, and the numbers.
OWN_ROWS = {"clinic_patient", "clinic_clinic", "clinic_patientversion", "clinic_referenceversion"}
TABLE = re.compile(r'(?:FROM|JOIN)\s+"?(\w+)"?')


@pytest.fixture
def rich(world, settings, tmp_path):
    """Nora with a row in every table her record and her bundle read."""
    settings.PHOTO_ROOT = tmp_path / "photos"
    made = journey(world.nora, world.pat)
    CheckIn.objects.create(
        patient=world.nora, session=made["session"], day=3, looks="same", feels="fine",
        improvement=2,
    )  # fmt: skip
    ErasureRequest.objects.create(patient=world.nora, reason="please")
    SafetyOverride.objects.create(
        patient=world.nora, rule="a rule", modality="microneedling", reason="a written reason"
    )
    ScreeningRecheck.objects.create(patient=world.nora, changed=False)
    PortalIntake.objects.create(patient=world.nora, answers={}, screening={})
    Reminder.objects.create(
        key=f"appointment:{made['appointment'].pk}:appointment:sms", patient=world.nora,
        appointment=made["appointment"], kind=Reminder.Kind.APPOINTMENT,
        channel=Reminder.Channel.SMS, due_at=timezone.now() - timedelta(hours=1),
        status=Reminder.Status.SENT, sent_at=timezone.now(),
    )  # fmt: skip
    ExternalId.objects.create(
        clinic=world.northgate, kind="patient", system="https://other.example", value="p-1",
        object_id=world.nora.pk,
    )  # fmt: skip
    OutcomeParameterSet.objects.create(
        clinic=world.northgate, version="clinic-2026-01-01-abcdef12",
        base_version="packaged-2026.2", data=parameter_sets.packaged().to_dict(),
    )  # fmt: skip
    start = timezone.now() + timedelta(days=3)
    Appointment.objects.create(
        clinic=world.northgate, patient=world.nora, practitioner=world.pat,
        start=start, end=start + timedelta(hours=1), location=world.northgate.locations.first(),
    )  # fmt: skip
    return made


def _held_to_what_is_watched(statements: list[str]) -> None:
    """Every table `statements` read is watched (or keyed by its rows), and every column read of
    a table watched for some columns is watched or shown nowhere."""
    cache_table = django_settings.CACHES["default"].get("LOCATION")  # held by its inputs
    tables = {t for sql in statements for t in TABLE.findall(sql)}
    assert tables & WATCHED, statements  # the pages' reads were seen
    assert tables - WATCHED - OWN_ROWS - {cache_table} == set()
    for table, (_, counted, never_shown) in REFERENCE_COLUMNS.items():
        read = {c for sql in statements for c in re.findall(rf'"{table}"\."(\w+)"', sql)}
        assert read - {*counted, *never_shown, "id"} == set(), table


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["alice", "pat", "fran"])
def test_every_table_the_record_reads_is_watched(persona, world, rich, client_as, monkeypatch):
    seen: list[str] = []
    real = views._record_body

    def captured(request, patient, now):
        with CaptureQueriesContext(connection) as queries:
            drawn = real(request, patient, now)
        seen.extend(q["sql"] for q in queries.captured_queries)
        return drawn

    monkeypatch.setattr(views, "_record_body", captured)
    client = client_as(persona)
    # Inside a transaction nothing is sent ahead or kept: each read is made as the body asks.
    with transaction.atomic():
        page = client.get(reverse("patient-detail", args=[world.nora.pk]))
    assert page.status_code == 200 and seen
    _held_to_what_is_watched(seen)


@pytest.mark.django_db
@pytest.mark.parametrize("rest", [False, True])
def test_every_table_the_fhir_bundle_reads_is_watched(rest, world, rich):
    p = Patient.objects.select_related("clinic").get(pk=world.nora.pk)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        kept.patient_bundle_json(p, RestRefs(p.clinic) if rest else None)
    _held_to_what_is_watched([q["sql"] for q in queries.captured_queries])


@pytest.fixture
def omar(world) -> Patient:
    """Another of Northgate's patients."""
    return stored_patient(
        clinic=world.northgate, given_name="Omar", family_name="Reyes",
        date_of_birth=timezone.localdate() - timedelta(days=40 * 365),
    )  # fmt: skip


@pytest.mark.django_db
def test_every_table_the_forecasts_inputs_read_is_watched(world, rich):
    nora = Patient.objects.select_related("clinic").get(pk=world.nora.pk)
    nora.fitzpatrick = "III"
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        forecasting._asked(nora, timezone.localdate())
    _held_to_what_is_watched([q["sql"] for q in queries.captured_queries])


SCHEDULE = importlib.import_module("dermis.web.clinic.migrations.0029_schedule_version")


@pytest.mark.django_db
@pytest.mark.parametrize("asked", ["first visit", "preferences"])
def test_every_table_the_series_proposal_reads_is_watched(asked, world, client_as):
    """The page is kept by the patient's numbers and the clinic's schedule version: every table
    it reads beyond who is signed in (the session, the user, the device: the same statements as
    a page that shows nothing of the clinic) and the audit's chain is watched by one of them."""
    plan, client = bookable_plan(world), client_as("pat")
    data = series_prefs(world) if asked == "preferences" else {}

    def statements(path: str, data: dict) -> list[str]:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            assert client.get(path, data).status_code == 200
        return [q["sql"] for q in queries.captured_queries]

    signed_in = set(statements(reverse("password-change-done"), {}))
    read = [
        sql
        for sql in statements(reverse("series-propose", args=[plan.pk]), data)
        if sql not in signed_in
        and sql.lstrip().startswith(("SELECT", "WITH"))
        and "clinic_auditchainhead" not in sql
        and "django_session" not in sql  # its expiry compared with the time: another statement
    ]
    schedule = {*SCHEDULE.WHOLE_ROWS, *SCHEDULE.SOME_COLUMNS, "clinic_scheduleversion"}
    tables = {t for sql in read for t in TABLE.findall(sql)}
    assert tables & schedule and tables & set(PATIENT_ROWS)  # the page's reads were seen
    assert tables - WATCHED - OWN_ROWS - schedule == set()
    for table, (_, counted, never_shown) in REFERENCE_COLUMNS.items():
        columns = {c for sql in read for c in re.findall(rf'"{table}"\."(\w+)"', sql)}
        assert columns - {*counted, *never_shown, "id"} == set(), table


def _numbers(patient: int, clinic: int) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n FROM clinic_patientversion WHERE patient_id = %s", [patient])
        mine = cursor.fetchone()
        cursor.execute("SELECT n FROM clinic_referenceversion WHERE clinic_id = %s", [clinic])
        theirs = cursor.fetchone()
    return (mine[0] if mine else 0, theirs[0] if theirs else 0)


def _a_row(table: str, of_row: str, value: int) -> int:
    of_row = of_row.format(row="r")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r.id FROM {table} AS r WHERE {of_row} = %s ORDER BY r.id", [value])
        found = cursor.fetchone()
    assert found, f"no row of {table}"
    return found[0]


def _touch(table: str, row: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET id = id WHERE id = %s", [row])


@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(PATIENT_ROWS))
def test_a_change_to_a_row_of_a_patients_moves_their_number_alone(table, world, rich, omar):
    row = _a_row(table, PATIENT_ROWS[table], world.nora.pk)
    nora, other = (world.nora.pk, world.northgate.pk), (omar.pk, world.northgate.pk)
    before, others_before = _numbers(*nora), _numbers(*other)
    _touch(table, row)
    after = _numbers(*nora)
    assert after[0] > before[0] and after[1] == before[1]
    assert _numbers(*other) == others_before


@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(REFERENCE_ROWS))
def test_a_change_to_a_row_of_a_clinics_moves_its_number_alone(table, world, rich):
    row = _a_row(table, REFERENCE_ROWS[table], world.northgate.pk)
    here, there = (world.nora.pk, world.northgate.pk), (world.nora.pk, world.riverside.pk)
    before, there_before = _numbers(*here), _numbers(*there)
    _touch(table, row)
    after = _numbers(*here)
    assert after[0] == before[0] and after[1] > before[1]
    assert _numbers(*there)[1] == there_before[1]


@pytest.mark.django_db
def test_a_staff_members_name_moves_the_clinics_number_and_a_sign_in_does_not(world):
    here = (world.nora.pk, world.northgate.pk)
    before = _numbers(*here)
    user = world.pat.user
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    user.set_password("another passphrase of hers")
    user.save(update_fields=["password"])
    assert _numbers(*here) == before
    user.last_name = "Renamed"
    user.save(update_fields=["last_name"])
    after = _numbers(*here)
    assert after[0] == before[0] and after[1] > before[1]


@pytest.mark.django_db
def test_a_row_made_moved_or_removed_moves_each_patients_number(world, omar):
    start = timezone.now() + timedelta(days=2)

    def numbers() -> tuple[int, int]:
        return _numbers(world.nora.pk, 0)[0], _numbers(omar.pk, 0)[0]

    first = numbers()
    made = Appointment.objects.create(
        clinic=world.northgate, patient=world.nora, practitioner=world.pat,
        start=start, end=start + timedelta(hours=1),
    )  # fmt: skip
    made_it = numbers()
    assert made_it[0] > first[0] and made_it[1] == first[1]
    Appointment.objects.filter(pk=made.pk).update(patient=omar)
    moved = numbers()
    assert moved[0] > made_it[0] and moved[1] > made_it[1]
    Appointment.objects.filter(pk=made.pk).delete()
    removed = numbers()
    assert removed[0] == moved[0] and removed[1] > moved[1]


@pytest.mark.django_db
def test_no_number_is_given_inside_a_transaction(world):
    """There a row may be uncommitted, and a number rolled back is given again to the next
    change: nothing is kept or taken by it."""
    with transaction.atomic():
        assert record_version.of(world.nora.pk, world.northgate.pk) is None


@pytest.mark.django_db(transaction=True)
def test_outside_one_the_numbers_are_the_databases(world):
    assert record_version.of(world.nora.pk, world.northgate.pk) == _numbers(
        world.nora.pk, world.northgate.pk
    )
