"""Reads sent together (clinic/prepared.py, `read_together`): on PostgreSQL the reads named ahead
go in one round trip and each prepared read inside the block takes its rows from there, the rows
it would have read alone; anywhere else, and inside a transaction, nothing changes. The record
page sends its panels' reads so, and uses every one of them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic import core_inputs, process_memo
from dermis.web.clinic import together as sending
from dermis.web.clinic.models import Appointment, Patient, SessionArea
from dermis.web.clinic.patients.views import PAST, RECORDS, UPCOMING
from dermis.web.clinic.prepared import PreparedCount, PreparedQuery, PreparedRows, PreparedValues
from dermis.web.clinic.together import Read, read_together
from tests.web.full_world import journey
from tests.web.test_query_counts import _more_visits

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="several statements in one string: PostgreSQL"
)

NAMES = PreparedRows(
    Patient, lambda clinic: Patient.objects.filter(clinic_id=clinic).order_by("pk"), clinic=int
)
FAMILY = PreparedValues(
    Patient,
    lambda clinic: (
        Patient.objects.filter(clinic_id=clinic)
        .order_by("pk")
        .values_list("family_name", flat=True)
    ),
    flat=True,
    clinic=int,
)
TALLY = PreparedCount(Patient, lambda clinic: Patient.objects.filter(clinic_id=clinic), clinic=int)
ONE = PreparedQuery(Patient, lambda pk: Patient.objects.filter(pk=pk), int)


def _all_four(clinic: int, pk: int) -> tuple:
    return (
        [p.pk for p in NAMES.rows(None, clinic=clinic)],
        FAMILY.rows(clinic=clinic),
        TALLY.count(clinic=clinic),
        ONE.first(pk).family_name,
    )


def _aheads(clinic: int, pk: int) -> list:
    return [
        NAMES.ahead(None, clinic=clinic),
        FAMILY.ahead(clinic=clinic),
        TALLY.ahead(clinic=clinic),
        ONE.ahead(pk),
    ]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_reads_sent_together_give_what_each_reads_alone_in_one_round_trip(world):
    clinic, pk = world.northgate.pk, world.nora.pk
    alone = _all_four(clinic, pk)
    with CaptureQueriesContext(connection) as seen, read_together(*_aheads(clinic, pk), None):
        together = _all_four(clinic, pk)
    assert together == alone
    assert len(seen.captured_queries) == 1  # the four statements in one string
    assert seen.captured_queries[0]["sql"].count("; SELECT") == 3


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_each_read_sent_ahead_answers_once_and_other_reads_go_to_the_database(world):
    clinic = world.northgate.pk
    with read_together(TALLY.ahead(clinic=clinic), FAMILY.ahead(clinic=clinic)):
        first = TALLY.count(clinic=clinic)
        Patient.objects.filter(pk=world.nora.pk).update(family_name="Changed")
        with CaptureQueriesContext(connection) as seen:
            again = FAMILY.rows(clinic=clinic)  # sent ahead, before the write
            twice = TALLY.count(clinic=clinic)  # its answer was taken: read again
            other = TALLY.count(clinic=world.riverside.pk)  # never sent
        assert len(seen.captured_queries) == 2
    assert first == twice == Patient.objects.filter(clinic_id=clinic).count()
    assert "Changed" not in again  # what was read ahead is what the database held then
    assert other == Patient.objects.filter(clinic_id=world.riverside.pk).count()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_string_that_fails_reads_nothing_ahead_and_each_read_runs_alone(world):
    clinic, pk = world.northgate.pk, world.nora.pk
    alone = _all_four(clinic, pk)
    broken = Read("default", "SELECT 1 / 0", [])
    with CaptureQueriesContext(connection) as seen, read_together(*_aheads(clinic, pk), broken):
        together = _all_four(clinic, pk)
    assert together == alone
    assert len(seen.captured_queries) == 5  # the failed string, then each read on its own
    assert connection.get_autocommit() and not connection.in_atomic_block


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_block_inside_another_takes_what_the_outer_one_read(world, spy):
    clinic, pk = world.northgate.pk, world.nora.pk
    alone = _all_four(clinic, pk)
    inner = (TALLY.ahead(clinic=world.riverside.pk), ONE.ahead(pk), ONE.ahead(pk + 1000))
    with (
        CaptureQueriesContext(connection) as seen,
        read_together(*_aheads(clinic, pk)),
        read_together(*inner),  # inside the first, naming one read the first sent
    ):
        together = _all_four(clinic, pk)
        other = TALLY.count(clinic=world.riverside.pk)
        missing = ONE.first(pk + 1000)
    assert together == alone
    assert other == Patient.objects.filter(clinic_id=world.riverside.pk).count()
    assert missing is None
    assert len(seen.captured_queries) == 2  # each block's string; nothing read alone
    # The inner block sent only the two reads the outer one had not: the patient came from the
    # outer one's rows, which the inner block's read took.
    assert spy.sizes == [4, 2]
    one, tally = ONE.ahead(pk), TALLY.ahead(clinic=world.riverside.pk)
    assert sending._key(one.alias, one.sql, one.params) not in spy.keys[1]
    assert sending._key(tally.alias, tally.sql, tally.params) in spy.keys[1]
    assert spy[0] == {} and spy[1] == {}  # every read sent was taken


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_read_named_twice_answers_twice(world, spy):
    clinic = world.northgate.pk
    twice = (FAMILY.ahead(clinic=clinic), FAMILY.ahead(clinic=clinic))
    with CaptureQueriesContext(connection) as seen, read_together(*twice):
        first, second = FAMILY.rows(clinic=clinic), FAMILY.rows(clinic=clinic)
        first.append("changed by its reader")
        third = FAMILY.rows(clinic=clinic)  # named twice: the third goes to the database
    assert spy.sizes == [1] and spy == [{}]
    assert len(seen.captured_queries) == 2
    assert (
        second
        == third
        == list(
            Patient.objects.filter(clinic_id=clinic)
            .order_by("pk")
            .values_list("family_name", flat=True)
        )
    )


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_or_on_sqlite_nothing_is_read_ahead(world):
    clinic, pk = world.northgate.pk, world.nora.pk
    alone = _all_four(clinic, pk)
    with (
        transaction.atomic(),
        CaptureQueriesContext(connection) as seen,
        read_together(*_aheads(clinic, pk)),
    ):
        together = _all_four(clinic, pk)
    assert together == alone
    assert len(seen.captured_queries) == 4


@pytest.mark.django_db(transaction=True)
def test_one_read_alone_is_not_sent_ahead(world):
    with CaptureQueriesContext(connection) as seen, read_together(TALLY.ahead(clinic=1)):
        pass
    assert seen.captured_queries == []


def test_a_read_the_orm_must_make_has_nothing_to_send(world):
    # A value of another type (or a number no column holds) goes to the ORM, read there.
    assert NAMES.ahead(None, clinic="1") is None
    assert ONE.ahead(10**30) is None
    assert FAMILY.ahead(clinic=None) is None


def test_the_sessions_are_given_their_areas_as_the_orm_prefetches_them(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    record = journey(world.nora, world.pat)
    _more_visits(world, record, 2)
    SessionArea.objects.create(session=world.nora.sessions.first(), area="chin", depth_mm=0.5)
    orm = list(world.nora.sessions.order_by("performed_at", "pk"))
    prefetch_related_objects(orm, "areas")
    mine = core_inputs.read_sessions(world.nora)
    with CaptureQueriesContext(connection) as seen:
        got = [[(a.pk, a.area, a.session is s) for a in s.areas.all()] for s in mine]
    assert seen.captured_queries == []
    assert got == [[(a.pk, a.area, True) for a in s.areas.all()] for s in orm]
    assert (
        sum(len(areas) for areas in got)
        == SessionArea.objects.filter(session__patient=world.nora).count()
    )


# --- The record page --------------------------------------------------------------------------

VARYING = re.compile(r'(nonce|value|content)="[^"]*"')


def _record(client, patient) -> str:
    response = client.get(reverse("patient-detail", args=[patient.pk]))
    assert response.status_code == 200
    return VARYING.sub(r'\1=""', response.content.decode())


class Spy(list):
    """Each set of rows `read_together` read ahead (emptied as the page takes them), and
    `sizes` and `keys`: how many reads each set held when it was read, and which."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []
        self.keys: list[set] = []

    def clear(self) -> None:
        super().clear()
        self.sizes.clear()


@pytest.fixture
def spy(monkeypatch):
    sent = Spy()
    real = sending._send_together

    def send(reads):
        found = real(reads)
        sent.append(found)
        sent.sizes.append(len(found))
        sent.keys.append(set(found))
        return found

    monkeypatch.setattr(sending, "_send_together", send)
    return sent


@pytest.mark.parametrize("persona", ["alice", "pat", "fran"])
@pytest.mark.django_db(transaction=True)
def test_the_record_page_uses_every_read_it_sends_ahead_and_shows_the_same(
    persona, world, settings, tmp_path, client_as, spy
):
    settings.PHOTO_ROOT = tmp_path / "photos"
    journey(world.nora, world.pat)
    start = timezone.now() + timedelta(days=3)
    Appointment.objects.create(
        clinic=world.northgate, patient=world.nora, practitioner=world.pat,
        start=start, end=start + timedelta(hours=1),
    )  # fmt: skip
    client = client_as(persona)
    _record(client, world.nora)  # the first request of a session does more
    with transaction.atomic():  # nothing read ahead inside a transaction
        alone = _record(client, world.nora)
    spy.clear()
    RECORDS.clear()  # drawn again (the first visit's is kept by the record version)
    with CaptureQueriesContext(connection) as seen:
        together = _record(client, world.nora)
    assert together == alone
    statements = [q["sql"] for q in seen.captured_queries]
    if connection.vendor != "postgresql":
        assert spy and all(found == {} for found in spy)
        return
    # The session with its user and device (the admin has passed the second factor; the others
    # have no device: this process served the session before, `accounts.middleware.Remembered`),
    # then the patient with the two numbers their record is kept by, then the record page's
    # reads; every one was taken.
    device = persona == "alice"
    clinical = persona != "fran"
    assert all(found == {} for found in spy)
    assert [n for n in spy.sizes if n] == [2 + device, 3, 14 if clinical else 3]
    strings = [s for s in statements if "; SELECT" in s and not s.startswith("BEGIN")]
    assert len(strings) == 3
    page = strings[-1]
    assert strings[0].startswith("SELECT session_data") and '"auth_user"' in strings[0]
    assert ("otp_totp_totpdevice" in strings[0]) == device
    assert strings[0].count("; SELECT") == 1 + device
    assert '"clinic_patient"' in strings[1] and "patientversion" in strings[1]
    assert "referenceversion" in strings[1] and strings[1].count("; SELECT") == 2
    # No statement sent ahead was also run on its own.
    for other in statements:
        if other not in strings:
            assert all(other not in sent for sent in strings)
    assert page.count("; SELECT") + 1 == (14 if clinical else 3)
    # The session with the user (and the device); for those without a device, whether they have
    # one; the patient with the numbers; the audit event's two; the page's reads. (Not the shared
    # cache: this process keeps the forecast panel it read on the first visit.)
    assert len(statements) == {"alice": 5, "pat": 6, "fran": 6}[persona], statements
    assert not [s for s in statements if "dermis_cache" in s]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_record_pages_lists_read_ahead_are_the_statements_they_run(world):
    now = timezone.now()
    reads = [UPCOMING.ahead(20, patient=world.nora.pk, now=now)]
    reads.append(PAST.ahead(10, patient=world.nora.pk, now=now))
    with CaptureQueriesContext(connection) as seen, read_together(*reads):
        UPCOMING.rows(20, patient=world.nora.pk, now=now)
        PAST.rows(10, patient=world.nora.pk, now=now)
    assert len(seen.captured_queries) == 1


@pytest.mark.django_db(transaction=True)
def test_the_fhir_export_reads_the_patient_together_and_gives_the_same_bundle(
    world, settings, tmp_path, spy
):
    from dermis.web.api.models import ExternalId
    from dermis.web.fhir.export import patient_bundle

    settings.PHOTO_ROOT = tmp_path / "photos"
    record = journey(world.nora, world.pat)
    for kind, object_id in (("patient", world.nora.pk), ("appointment", record["appointment"].pk)):
        ExternalId.objects.create(
            clinic=world.northgate, kind=kind, system="https://other.example", value=f"{kind}-1",
            object_id=object_id,
        )  # fmt: skip

    def bundle() -> dict:
        patient = Patient.objects.select_related("clinic").get(pk=world.nora.pk)
        found = patient_bundle(patient).model_dump(mode="json")
        found.pop("timestamp")
        return found

    with transaction.atomic():
        alone = bundle()
    spy.clear()
    with CaptureQueriesContext(connection) as seen:
        together = bundle()
    assert together == alone
    values = {i["value"] for e in alone["entry"] for i in e["resource"].get("identifier", [])}
    assert {"patient-1", "appointment-1"} <= values
    practitioners = [e for e in alone["entry"] if e["resource"]["resourceType"] == "Practitioner"]
    assert len(practitioners) == 1
    if connection.vendor == "postgresql":
        assert spy == [{}]  # every read sent ahead was taken
        assert spy.sizes == [12]  # ten of the patient's kinds of rows, who saw them, identifiers
        assert len(seen.captured_queries) == 2  # the patient, then the rest together


# --- Other pages: the same page with and without reads sent together ----------------------------


def _page(client, url: str) -> tuple[int, str]:
    response = client.get(url)
    body = response.content
    text = body.decode() if response["Content-Type"].startswith("text/html") else body.hex()
    return response.status_code, VARYING.sub(r'\1=""', text)


def _series_page(world) -> str:
    from tests.web.test_series_booking import accepted_plan, weekday_hours

    weekday_hours(world.pat)
    plan = accepted_plan(world.nora, world.pat)
    location = world.northgate.locations.get()
    return (
        reverse("series-propose", kwargs={"plan_id": plan.pk})
        + f"?course=0&location={location.pk}&practitioner={world.pat.pk}"
    )


def _forecast_chart(world) -> str:
    journey(world.nora, world.pat)
    return reverse("patient-forecast", args=[world.nora.pk])


def _booked_world(world) -> None:
    """Nora's journey, and an appointment today with pat's hours, so the day shows something."""
    from tests.web.test_series_booking import weekday_hours

    journey(world.nora, world.pat)
    weekday_hours(world.pat)
    start = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    Appointment.objects.create(
        clinic=world.northgate, patient=world.nora, practitioner=world.pat,
        start=start, end=start + timedelta(hours=1),
    )  # fmt: skip


def _named(name: str, query: str = ""):
    def make(world) -> str:
        _booked_world(world)
        return reverse(name) + query

    return make


def _recall_patient(world) -> str:
    _booked_world(world)
    return reverse("recall-patient", args=[world.nora.pk])


@pytest.mark.parametrize(
    ("make", "persona"),
    [
        (_series_page, "pat"),
        (_forecast_chart, "pat"),
        (_named("diary"), "fran"),
        (_named("diary", "?view=week"), "pat"),
        (_named("dashboard"), "alice"),
        (_named("dashboard"), "fran"),
        (_named("recall-worklist"), "pat"),
        (_named("audit-log"), "alice"),
        (_named("availability"), "alice"),
        (_named("availability"), "pat"),
        (_named("reminder-delivery"), "fran"),
        (_recall_patient, "fran"),
        (_named("patient-list"), "fran"),
        (_named("audit-log", "?user=pat"), "alice"),
    ],
    ids=[
        "series proposal",
        "forecast chart",
        "diary day",
        "diary week",
        "dashboard (admin)",
        "dashboard (front desk)",
        "recall worklist",
        "audit log",
        "availability (admin)",
        "availability (practitioner)",
        "reminders",
        "recall patient",
        "patients",
        "audit log by user",
    ],
)
@pytest.mark.django_db(transaction=True)
def test_a_page_that_reads_together_shows_what_it_shows_reading_alone(
    make, persona, world, settings, tmp_path, client_as, spy
):
    settings.PHOTO_ROOT = tmp_path / "photos"
    url = make(world)
    client = client_as(persona)
    first = _page(client, url)  # the first request of a session does more; the chart is drawn
    with transaction.atomic():
        alone = _page(client, url)
    spy.clear()
    cache.clear()  # a page kept by the schedule version (the diary) is drawn again
    process_memo.clear_all()  # (and by this process)
    together = _page(client, url)
    assert first[0] == alone[0] == together[0] == 200
    assert together == alone
    assert spy and all(found == {} for found in spy)  # every read sent ahead was taken
    if connection.vendor == "postgresql":
        assert sum(spy.sizes) >= 2  # and reads were sent together
    else:
        assert sum(spy.sizes) == 0


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_series_page_reads_its_menus_and_its_setup_in_one_round_trip(world, client_as, spy):
    url = _series_page(world)
    client = client_as("pat")
    from dermis.web.clinic.scheduling.views import series as series_views

    client.get(url)  # the session's first request
    series_views.PAGES.clear()  # drawn again, not this process's copy
    spy.clear(), spy.sizes.clear(), spy.keys.clear()
    with CaptureQueriesContext(connection) as seen:
        response = client.get(url)
    assert response.status_code == 200 and response.context["result"].proposal
    # The two menus and the eleven reads of setup; then the form's block and setup's own, which
    # send nothing again. Every read sent was taken.
    assert spy.sizes[-3:] == [13, 0, 0] and all(found == {} for found in spy)
    together = [q["sql"] for q in seen.captured_queries if '"clinic_workinghours"' in q["sql"]]
    assert len(together) == 1
    for table in ("clinic_location", "clinic_treatmentsession", "clinic_safetyoverride"):
        assert f'FROM "{table}"' in together[0], table
