"""A page's reads go to PostgreSQL as prepared statements (clinic/together.py): every page and API
list shows the same whether its reads are prepared or sent as text, with PostgreSQL's first plans
and with the one it keeps after five runs; reads sent together are one round trip; a read that
cannot be prepared is read as text, and the log says so without its values. Transactions of
their own, as a server's requests are (inside one, reads go as text)."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dermis.core import slots
from dermis.web.clinic import together
from dermis.web.clinic.models import Patient
from dermis.web.clinic.prepared import PreparedRows
from tests import factories
from tests.web.full_world import journey

pytestmark = pytest.mark.django_db(transaction=True)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


# What differs from one request to the next whatever the reads: a form's CSRF token (masked anew
# each time) and the moment a FHIR bundle was made.
EACH_TIME = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"|"timestamp": ?"[^"]*"')
# Left to choose, PostgreSQL plans a prepared statement anew for its first five runs, then may
# keep one plan (the settings tell it to plan once; behind PgBouncer a role setting does).
RUNS_TO_KEEP_A_PLAN = 6


def _prepared_on_connection() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


@pytest.fixture
def pages(world, settings, tmp_path) -> list[tuple[str, str]]:
    """(who, address) of every page and API list a clinic uses most, over a whole journey."""
    settings.PHOTO_ROOT = tmp_path / "photos"
    factories.working_hours(world.pat)
    record = journey(world.nora, world.pat)
    nora, plan = world.nora.pk, record["plan"].pk
    location = world.northgate.locations.order_by("pk").first().pk
    choose = f"?course=0&location={location}&practitioner={world.pat.pk}"
    return [
        ("pat", reverse("dashboard")),
        ("pat", reverse("diary")),
        ("pat", reverse("diary") + "?view=week&date=2026-11-23"),
        ("pat", reverse("patient-list")),
        ("pat", reverse("patient-list") + "?q=Nora"),
        ("pat", reverse("patient-detail", args=[nora])),
        ("pat", reverse("patient-forecast", args=[nora])),
        ("pat", reverse("series-propose", args=[plan]) + choose),
        ("pat", reverse("recall-worklist")),
        ("pat", reverse("recall-patient", args=[nora])),
        ("pat", reverse("availability")),
        ("pat", reverse("waitlist")),
        ("pat", reverse("calendar-feed-list")),
        ("alice", reverse("audit-log") + "?user=pat"),
        ("alice", reverse("reminder-delivery")),
        ("api", "/api/v1/patients"),
        ("api", "/api/v1/patients?q=Nora"),
        ("api", "/api/v1/appointments"),
        ("api", "/api/v1/recall"),
        ("api", "/api/v1/practitioners"),
        ("api-admin", "/api/v1/reminders"),
        ("api", "/api/v1/waitlist"),
        ("api", f"/api/v1/patients/{nora}/sessions"),
        ("api", f"/api/v1/patients/{nora}/fhir"),
        ("api", f"/fhir/R4/Patient/{nora}/$everything"),
        ("api", "/fhir/R4/Patient?name=Nora"),
    ]


def test_every_page_is_the_same_with_prepared_reads_as_with_reads_sent_as_text(
    pages, settings, client_as, api_as, caplog
):
    if not _postgres():
        pytest.skip("prepared reads: PostgreSQL")
    # Not across a point of the slot grid (every 5, 15 or 30 minutes from midnight): the series
    # proposal's first slot would rightly move between two of its requests.
    now = timezone.now()
    left = slots.same_search_until(timezone.get_current_timezone(), now, 5) - now
    if left < timedelta(seconds=30):
        time.sleep(left.total_seconds() + 1)
    clients = {"pat": client_as("pat"), "alice": client_as("alice")}
    clients |= {"api": api_as("pat"), "api-admin": api_as("alice")}
    for who, url in pages:
        clients[who].get(url)  # a session's first request does more (last login, token use)
    caplog.set_level(logging.WARNING, logger=together.__name__)
    for who, url in pages:
        settings.DERMIS_DB_PREPARED_READS = False
        as_text = clients[who].get(url)
        assert as_text.status_code == 200, url
        settings.DERMIS_DB_PREPARED_READS = True
        for run in range(RUNS_TO_KEEP_A_PLAN):
            prepared = clients[who].get(url)
            if run in (0, RUNS_TO_KEEP_A_PLAN - 1):  # the first plans, then the one kept
                assert prepared.status_code == 200, url
                same = EACH_TIME.sub(b"", prepared.content) == EACH_TIME.sub(b"", as_text.content)
                assert same, url
    assert _prepared_on_connection() > 20  # the pages' reads were prepared...
    fell_back = [r for r in caplog.records if r.name == together.__name__]
    assert not fell_back  # ...every one of them, none read as text instead
    # Each planned once for any values (settings: `plan_cache_mode`), none planned anew on each
    # run as PostgreSQL chose for some when left to choose.
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, custom_plans FROM pg_prepared_statements")
        planned = cursor.fetchall()
    assert [statement for statement, custom in planned if custom] == []


def test_reads_sent_together_are_one_round_trip_of_prepared_statements(world, settings):
    if not _postgres():
        pytest.skip("prepared reads: PostgreSQL")
    settings.DERMIS_DB_PREPARED_READS = True
    by_name = PreparedRows(Patient, lambda family: Patient.objects.filter(family_name=family),
                           family=str)  # fmt: skip
    by_id = PreparedRows(Patient, lambda pk: Patient.objects.filter(pk=pk), pk=int)
    before = _prepared_on_connection()
    for _ in range(2):
        with (
            CaptureQueriesContext(connection) as seen,
            together.read_together(
                by_name.ahead(None, family=world.nora.family_name),
                by_id.ahead(None, pk=world.nora.pk),
            ),
        ):
            assert by_name.rows(None, family=world.nora.family_name) == [world.nora]
            assert by_id.rows(None, pk=world.nora.pk) == [world.nora]
        # One round trip, logged as the string of two statements it replaces, with the values.
        [sent] = seen.captured_queries
        assert sent["sql"].count("SELECT") == 2 and str(world.nora.pk) in sent["sql"]
        # Prepared once on the connection, then used again.
        assert _prepared_on_connection() == before + 2
    with CaptureQueriesContext(connection) as alone:  # a read outside a block: prepared too
        assert by_id.rows(None, pk=world.nora.pk) == [world.nora]
    assert len(alone.captured_queries) == 1 and _prepared_on_connection() == before + 2
    settings.DERMIS_DB_PREPARED_READS = False
    with together.read_together(by_id.ahead(None, pk=world.nora.pk), by_id.ahead(None, pk=0)):
        assert by_id.rows(None, pk=world.nora.pk) == [world.nora]
    assert _prepared_on_connection() == before + 2  # as text: nothing more prepared


def test_a_read_that_cannot_be_prepared_is_read_as_text_and_the_log_names_no_value(
    settings, caplog
):
    if not _postgres():
        pytest.skip("prepared reads: PostgreSQL")
    settings.DERMIS_DB_PREPARED_READS = True
    caplog.set_level(logging.WARNING, logger=together.__name__)
    # Bound on the server, a parameter alone before IS NULL has no type; as text it is a literal.
    rows = together.fetch("default", "SELECT %s IS NULL", ["Nora Newsome 07700 900123"])
    assert rows == [(False,)]
    [record] = [r for r in caplog.records if r.name == together.__name__]
    assert "IndeterminateDatatype" in record.getMessage()
    assert "Nora" not in record.getMessage() and "07700" not in record.getMessage()


def test_a_statement_a_migration_changed_under_it_is_prepared_again(settings, caplog):
    """A column's type changed while the connection kept a statement reading it (a migration
    run beside a server): that read is read as text once, the connection's statements are
    dropped, and the next read is prepared again instead of failing until the connection ends."""
    if not _postgres():
        pytest.skip("prepared reads: PostgreSQL")
    settings.DERMIS_DB_PREPARED_READS = True
    caplog.set_level(logging.WARNING, logger=together.__name__)
    read = 'SELECT "name" FROM "prepared_reads_probe" WHERE "id" = %s'
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "prepared_reads_probe" ("id" int, "name" varchar(10))')
        cursor.execute('INSERT INTO "prepared_reads_probe" VALUES (1, %s)', ["first"])
    try:
        for _ in range(RUNS_TO_KEEP_A_PLAN):
            assert together.fetch("default", read, [1]) == [("first",)]
        with connection.cursor() as cursor:
            cursor.execute('ALTER TABLE "prepared_reads_probe" ALTER "name" TYPE varchar(20)')
        assert together.fetch("default", read, [1]) == [("first",)]  # as text, once
        fell_back = [r for r in caplog.records if r.name == together.__name__]
        assert len(fell_back) == 1 and "0A000" in fell_back[0].getMessage()
        for _ in range(3):  # prepared anew: no more falling back
            assert together.fetch("default", read, [1]) == [("first",)]
        assert len([r for r in caplog.records if r.name == together.__name__]) == 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                           ["%prepared_reads_probe%"])  # fmt: skip
            assert cursor.fetchone()[0] == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute('DROP TABLE "prepared_reads_probe"')
