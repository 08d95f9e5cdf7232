"""The audit trail is a keyed hash chain that the database keeps append-only: `dermis audit
verify` passes an untouched trail and names the first deleted, altered or forged event."""

from __future__ import annotations

import contextlib
import itertools
import threading

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from dermis.cli.main import main
from dermis.web.clinic import audit_triggers
from dermis.web.clinic.audit import record
from dermis.web.clinic.audit_chain import GENESIS, link
from dermis.web.clinic.audit_verify import verify_chain
from dermis.web.clinic.models import AuditChainHead, AuditEvent
from tests import factories

TABLE = AuditEvent._meta.db_table


@contextlib.contextmanager
def triggers_lifted():
    """What someone with the table owner's rights could do: lift the triggers for a moment."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for sql in audit_triggers.every_table(vendor, create=False):
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in audit_triggers.every_table(vendor, create=True):
                cursor.execute(sql)


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def trail(world):
    actor = factories.actor(world.pat)
    return [record(actor, "view", world.nora, summary=f"look {i}") for i in range(5)]


def verify_cli(capsys) -> tuple[int, str]:
    code = main(["audit", "verify"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_each_event_is_chained_to_the_one_before(trail):
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    assert trail[0].chain_hash == link(GENESIS, trail[0])
    for before, after in itertools.pairwise(trail):
        assert after.chain_hash == link(before.chain_hash, after)
    head = AuditChainHead.objects.get()
    assert (head.seq, head.last_hash) == (trail[-1].seq, trail[-1].chain_hash)


def test_an_untouched_trail_verifies_and_the_command_exits_0(trail, capsys):
    assert verify_chain().intact
    code, output = verify_cli(capsys)
    assert code == 0 and f"audit chain intact: {len(trail)} events" in output
    assert trail[-1].chain_hash in output  # the head, to keep somewhere else


def test_a_deleted_event_is_found(trail, capsys):
    with triggers_lifted():
        raw(f"DELETE FROM {TABLE} WHERE id = %s", [trail[2].pk])
    report = verify_chain()
    assert not report.intact and report.broken_event_id == trail[3].pk
    assert "event number 3 before it was deleted" in report.reason
    code, output = verify_cli(capsys)
    assert code == 1 and f"BROKEN at event id {trail[3].pk} (number 4)" in output


def test_the_newest_events_deleted_are_found(trail):
    with triggers_lifted():
        raw(f"DELETE FROM {TABLE} WHERE id IN (%s, %s)", [trail[3].pk, trail[4].pk])
    report = verify_chain()
    assert not report.intact and "events 4-5 (the newest) were deleted" in report.reason


def test_an_altered_event_is_found(trail):
    with triggers_lifted():
        raw(f"UPDATE {TABLE} SET username = %s WHERE id = %s", ["alice", trail[1].pk])
    report = verify_chain()
    assert report.broken_event_id == trail[1].pk and "altered or forged" in report.reason


def test_a_deleted_event_forged_back_without_the_key_is_found(trail):
    original = AuditEvent.objects.get(pk=trail[2].pk)
    with triggers_lifted():
        raw(f"DELETE FROM {TABLE} WHERE id = %s", [trail[2].pk])
        # re-inserted with a different summary and a hash made without the key
        raw(
            f"INSERT INTO {TABLE} (id, at, clinic_id, user_id, username, patient_id_ref, action,"
            " object_type, object_id, summary, path, seq, chain_hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                original.pk, original.at, original.clinic_id, original.user_id,
                original.username, original.patient_id_ref, original.action,
                original.object_type, original.object_id, "nothing to see", original.path,
                original.seq, "f" * 64,
            ],
        )  # fmt: skip
    report = verify_chain()
    assert report.broken_event_id == trail[2].pk and "altered or forged" in report.reason


def test_an_event_written_around_the_writer_is_found(trail, world):
    raw(
        f"INSERT INTO {TABLE} (at, username, action, object_type, object_id, summary, path)"
        " VALUES (CURRENT_TIMESTAMP, 'pat', 'view', '', '', '', '')"
    )
    report = verify_chain()
    assert not report.intact and "not in the chain" in report.reason


def test_the_database_refuses_delete_and_update(trail):
    for sql in (f"DELETE FROM {TABLE}", f"UPDATE {TABLE} SET summary = 'x'"):
        with pytest.raises(DatabaseError), transaction.atomic():
            raw(sql)
    assert AuditEvent.objects.count() == len(trail)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)  # committed rows: TRUNCATE is otherwise refused anyway
def test_postgresql_refuses_truncate(trail):
    for table in audit_triggers.TABLES:  # the events, and the patients they list
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw(f"TRUNCATE {table}")
    assert AuditEvent.objects.count() == len(trail)


def test_bulk_writes_are_refused_by_the_model():
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_create([AuditEvent(username="x", action="view")])


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    from tests.personas import build_world

    world = build_world()
    writers, each = 6, 5
    barrier = threading.Barrier(writers)
    errors: list[str] = []

    def write(persona, own: bool) -> None:
        # Half the writers inside a transaction of their own, half not (on PostgreSQL the events
        # then take the two-round-trip path): they queue on the same head either way.
        try:
            barrier.wait(timeout=30)
            for i in range(each):
                with transaction.atomic() if own else contextlib.nullcontext():
                    record(factories.actor(persona), "view", world.nora, summary=f"n{i}")
        except Exception as exc:  # reported below
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    before = AuditEvent.objects.count()
    threads = [threading.Thread(target=write, args=(world.pat, i % 2 == 0)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert AuditEvent.objects.count() == before + writers * each
    assert verify_chain().intact


# --- Refused access and searches are audited -------------------------------------------------


def test_a_refused_page_is_audited_for_the_role(world, client_as):
    response = client_as("fran").get(reverse("session-create", args=[world.nora.pk]))
    assert response.status_code == 403
    event = AuditEvent.objects.filter(action="denied").get()
    assert event.username == "fran" and "403" in event.summary
    assert event.object_id == str(world.nora.pk) and event.patient_id_ref is None


def test_another_clinics_patient_is_audited_as_not_found_without_naming_them(world, client_as):
    response = client_as("oscar").get(reverse("patient-detail", args=[world.nora.pk]))
    assert response.status_code == 404
    event = AuditEvent.objects.filter(action="denied").get()
    assert event.username == "oscar" and event.clinic_id == world.oscar.clinic_id
    assert "404" in event.summary and event.patient_id_ref is None


def test_api_refusals_are_audited(world, api_as):
    assert api_as("oscar").get(f"/api/v1/patients/{world.nora.pk}").status_code == 404
    assert api_as("fran").get(f"/api/v1/patients/{world.nora.pk}/sessions").status_code == 403
    events = AuditEvent.objects.filter(action="denied").order_by("seq")
    assert [(e.username, e.summary) for e in events] == [
        ("oscar", "api: not found (404)"),
        ("fran", "api: access refused (403)"),
    ]


def test_a_page_that_does_not_exist_is_not_an_access_to_audit(world, client_as):
    assert client_as("pat").get("/no-such-page/Nora-Quinn/").status_code == 404
    assert not AuditEvent.objects.filter(action="denied").exists()


def test_searches_are_audited_without_the_words(world, client_as, api_as):
    assert client_as("fran").get(reverse("patient-list"), {"q": "Quinn"}).status_code == 200
    assert api_as("fran").get("/api/v1/patients", q="Quinn").status_code == 200
    events = AuditEvent.objects.filter(object_type="PatientList").order_by("seq")
    assert [e.summary for e in events] == [
        "patient list or search",
        "api: patient list or search",
    ]
    for e in AuditEvent.objects.all():
        assert "Quinn" not in f"{e.summary} {e.path} {e.object_id}"


def test_events_written_together_are_stored_as_given_and_verify(world, capsys):
    """`record_many` writes a list page's event in one statement (on PostgreSQL one JSON text):
    each is stored with every field as the model would have stored it, chained, and verifies."""
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.audit import record_many
    from dermis.web.clinic.models.audit import COLUMNS

    model_columns = {f.column for f in AuditEvent._meta.concrete_fields if not f.primary_key}
    assert {column for column, _ in COLUMNS} == model_columns
    before = record(factories.actor(world.pat), "view", world.nora)
    patients = [world.nora, world.rhys]
    staff = factories.actor(world.pat)
    written = [
        *record_many(Actor.of_staff(world.pat, path="/recall/", ip_address=""), "view", patients),
        *record_many(
            Actor.of_staff(world.fran, channel="api", ip_address="2001:0db8:0000::0001"),
            "export",
            patients,
            summary="recall worklist",
        ),
        *record_many(Actor.system(world.pat.clinic), "view", [world.nora]),
        *record_many(Actor.operator(), "view", [world.rhys]),
    ]
    assert record_many(staff, "view", []) == []
    stored = {e.pk: e for e in AuditEvent.objects.filter(pk__in=[e.pk for e in written])}
    assert len(stored) == len(written) == 4
    assert [e.seq for e in written] == list(range(before.seq + 1, before.seq + 5))
    for event in written:
        again = stored[event.pk]
        for field in AuditEvent._meta.concrete_fields:
            kept, given = getattr(again, field.attname), getattr(event, field.attname)
            if field.name == "ip_address":
                given = None if not given else "2001:db8::1"
            assert kept == given, field.name
    assert stored[written[0].pk].ip_address is None
    assert stored[written[0].pk].summary == "2 patients"
    assert stored[written[1].pk].summary == "api: recall worklist, 2 patients"
    assert stored[written[2].pk].user_id is None
    assert stored[written[2].pk].patient_id_ref == world.nora.pk
    assert stored[written[3].pk].clinic_id is None
    head = AuditChainHead.objects.get()
    assert (head.seq, head.last_hash) == (written[-1].seq, written[-1].chain_hash)
    assert verify_cli(capsys)[0] == 0


def test_events_written_together_keep_quotes_backslashes_and_any_character(world, capsys):
    """The events of a list page go to PostgreSQL as one JSON text: what needs escaping there
    (quotes, backslashes, characters beyond ASCII and beyond the basic plane) is stored as given,
    and the chain still verifies."""
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.audit import record_many

    path = '/recall/?q=O\'Brien \\ "Ünïcode" 😀\t{}[],:'
    actor = Actor.of_staff(world.pat, path=path, ip_address="::ffff:10.0.0.1")
    written = record_many(actor, "view", [world.nora, world.rhys], summary='a "quoted" \\ note')
    for event in AuditEvent.objects.filter(pk__in=[e.pk for e in written]):
        assert event.path == path
        assert event.summary == 'a "quoted" \\ note, 2 patients'
        assert event.at == next(e.at for e in written if e.pk == event.pk)
    assert verify_cli(capsys)[0] == 0


def test_events_are_written_in_one_statement_after_the_heads_read(world):
    """Every audited page writes an event: reading the locked head, then (on PostgreSQL) one
    statement that inserts the event, the patients it lists, and moves the head; elsewhere an
    INSERT of each and an UPDATE."""
    from django.test.utils import CaptureQueriesContext

    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.audit import record_many

    record(factories.actor(world.pat), "view", world.nora)  # the head exists
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    with CaptureQueriesContext(connection) as seen:
        written = record_many(Actor.of_staff(world.pat), "view", [world.nora, world.rhys])
    statements = [q["sql"] for q in seen.captured_queries if not q["sql"].startswith(control)]
    assert "FOR UPDATE" in statements[0] or connection.vendor != "postgresql"
    assert len(statements) == (2 if connection.vendor == "postgresql" else 4)
    head = AuditChainHead.objects.get()
    assert (head.seq, head.last_hash) == (written[-1].seq, written[-1].chain_hash)


def _statements(seen) -> list[str]:
    return [q["sql"] for q in seen.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_events_take_two_round_trips_and_leave_none_open():
    """Outside the caller's transaction (an audited page), PostgreSQL is sent BEGIN with the
    head's locked read and COMMIT with the INSERT: two round trips where there were four. The
    connection is left out of any transaction, the head moved and the chain whole."""
    from django.test.utils import CaptureQueriesContext

    from tests.personas import build_world

    world = build_world()
    actor = factories.actor(world.pat)
    record(actor, "view", world.nora)  # the head exists
    with CaptureQueriesContext(connection) as seen:
        written = record(actor, "view", world.rhys, summary="two trips")
    sql = _statements(seen)
    if connection.vendor == "postgresql":
        assert len(sql) == 2
        assert sql[0].startswith("BEGIN; SELECT") and sql[0].endswith("FOR UPDATE")
        assert sql[1].endswith("; COMMIT")
        assert connection.connection.info.transaction_status == 0  # idle
    else:  # SQLite: its own transaction, as before (BEGIN, read, INSERT, UPDATE, COMMIT)
        assert sql[0].startswith("BEGIN") and sql[-1] == "COMMIT"
    assert connection.get_autocommit() and not connection.in_atomic_block
    head = AuditChainHead.objects.get()
    assert (head.seq, head.last_hash) == (written.seq, written.chain_hash)
    assert AuditEvent.objects.get(pk=written.pk).summary == "two trips"
    assert verify_chain().intact


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_an_event_that_fails_to_write_outside_a_transaction_leaves_nothing_behind():
    """A failed INSERT on the two-round-trip path is rolled back: nothing written, the head
    where it was, the connection out of any transaction and usable."""
    from tests.personas import build_world

    world = build_world()
    record(factories.actor(world.pat), "view", world.nora)
    head = AuditChainHead.objects.get()
    before = AuditEvent.objects.count()
    too_long = AuditEvent(username="pat", action="view", object_type="x" * 41)
    with pytest.raises(DatabaseError):
        AuditEvent.append_many([too_long])
    assert connection.connection.info.transaction_status == 0  # idle, not left open
    assert AuditEvent.objects.count() == before
    assert AuditChainHead.objects.get().seq == head.seq
    written = record(factories.actor(world.pat), "view", world.rhys)
    assert written.seq == head.seq + 1
    assert verify_chain().intact


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_with_server_side_binding_events_go_in_a_transaction_of_their_own(monkeypatch):
    """Server-side binding sends one statement a message: the events then take Django's own
    transaction (the head's read and the INSERT each a statement of their own)."""
    from django.test.utils import CaptureQueriesContext

    from tests.personas import build_world

    world = build_world()
    actor = factories.actor(world.pat)
    record(actor, "view", world.nora)
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    with CaptureQueriesContext(connection) as seen:
        written = record(actor, "view", world.rhys)
    sql = _statements(seen)
    assert not any(";" in q.rstrip(";") for q in sql if not q.startswith("WITH"))
    assert sql[0] == "BEGIN" and sql[-1] == "COMMIT"
    assert AuditChainHead.objects.get().seq == written.seq
    assert verify_chain().intact
