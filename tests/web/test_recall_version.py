"""The recall version the database keeps for each clinic (migration 0031): every kind of write to
what the recall worklist shows adds to it, of that clinic only, whatever made the write; and the
worklist kept by it (`recall_list.kept_worklist`) is the one read anew: after each change, and
when time alone changes the list (a hold ends, a follow-up's end passes, a day begins)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dermis.web.clinic import process_memo
from dermis.web.clinic.models import (
    Appointment,
    Clinic,
    LatestRecallContact,
    Patient,
    RecallEntry,
    StaffMember,
    TreatmentPlan,
)
from dermis.web.clinic.patients import services as patients
from dermis.web.clinic.scheduling import due_dates, recall_desk, recall_list, versions
from dermis.web.clinic.scheduling.booking import Booking, book
from tests import factories
from tests.web.concurrent_writers import second_waits_then_both_commit
from tests.web.test_notice_period_migration import back_to_the_latest  # noqa: F401
from tests.web.test_recall_store import _clinic_of_many
from tests.web.test_recall_worklist import CADENCE_DAYS, _patient, _treated

URL = "/recall/"


def _versions(world) -> tuple[int, int]:
    return tuple(versions.recall_version(c.pk) for c in (world.northgate, world.riverside))


def _shown(page: recall_list.Page) -> tuple:
    """What a page of the worklist shows, row by row."""
    return (
        [
            (m.patient.pk, m.patient.full_name, m.patient.phone, m.due, m.basis, m.why,
             m.contact_outcome, m.contact_by)
            for m in page.maintenance
        ],
        [
            (r.patient.pk, r.patient.full_name, r.patient.email, r.plan_id, r.plan.version,
             r.counted, r.planned, r.due, r.contact_outcome)
            for r in page.incomplete
        ],
        [
            (f.patient.pk, f.patient.full_name, f.appointment.pk, f.appointment.practitioner_name,
             f.appointment.status, f.contact_outcome)
            for f in page.follow_ups
        ],
        page.more,
    )  # fmt: skip


def test_every_write_to_what_the_worklist_shows_adds_to_its_clinic_only(world):
    made = _clinic_of_many(world)
    fran, nora = factories.actor(world.fran), world.nora
    plan = TreatmentPlan.objects.filter(patient=nora).first()
    start = factories.next_weekday_at(10, days_ahead=9)
    steps = [
        ("a contact logged", lambda: recall_desk.log_contact(fran, nora, outcome="no_answer")),
        ("the latest contact moved", lambda: LatestRecallContact.objects.filter(
            patient=nora).delete()),
        ("a row rewritten", lambda: due_dates.refresh(made["fiona"])),
        ("a raw update of a row", lambda: RecallEntry.objects.filter(
            patient=made["eve"]).update(why="changed by hand")),
        ("a booking", lambda: book(made["eve"], Booking(
            start, start + timedelta(hours=1), world.pat))),
        ("an appointment's status", lambda: Appointment.objects.filter(
            patient=made["eve"]).update(status="cancelled")),
        ("a patient's name", lambda: patients.update_patient(
            fran, nora, family_name="Newname")),
        ("a patient's phone", lambda: Patient.objects.filter(pk=nora.pk).update(
            phone="07700 900999")),
        ("a patient's email", lambda: Patient.objects.filter(pk=nora.pk).update(
            email="nora.new@example.org")),
        ("a plan's version number", lambda: TreatmentPlan.objects.filter(pk=plan.pk).update(
            version=7)),
        ("a practitioner's name", lambda: StaffMember.objects.filter(pk=world.pat.pk).update(
            display_name="Pat P.")),
        ("a row deleted", lambda: RecallEntry.objects.filter(patient=made["dee"]).delete()),
    ]  # fmt: skip
    for what, write in steps:
        before = _versions(world)
        write()
        after = _versions(world)
        assert after[0] > before[0], what
        assert after[1] == before[1], f"{what} changed the other clinic's version"


def test_writes_to_nothing_the_worklist_shows_leave_it(world):
    _clinic_of_many(world)
    before = _versions(world)
    Patient.objects.filter(pk=world.nora.pk).update(address="1 New Street", sex="m")
    Clinic.objects.filter(pk=world.northgate.pk).update(idle_timeout_minutes=45)
    TreatmentPlan.objects.filter(patient=world.nora).update(note="seen")
    assert _versions(world) == before


def test_a_bulk_load_of_rows_into_two_clinics_adds_to_both(world):
    before = _versions(world)
    today = timezone.localdate()
    RecallEntry.objects.bulk_create(
        RecallEntry(
            clinic=who.clinic, patient=who, section="maintenance", due=today, basis="cadence",
            modality="microneedling", version="v",
        )
        for who in (world.nora, world.rhys)
    )  # fmt: skip
    after = _versions(world)
    assert after[0] > before[0] and after[1] > before[1]


# --- What is kept by the version: transactions of their own, as a server's requests are. ---


def _fresh(world, today, now, page: int = 1) -> tuple:
    return _shown(recall_list.worklist(world.northgate, today, now, size=25, page=page))


def _kept(world, today, now, page: int = 1) -> tuple:
    return _shown(recall_list.kept_worklist(world.northgate, today, now, size=25, page=page))


@pytest.mark.django_db(transaction=True)
def test_the_kept_worklist_is_the_one_read_anew_after_each_change(world):
    made = _clinic_of_many(world, extra=30)
    today, now = timezone.localdate(), timezone.now()
    first = _kept(world, today, now)
    with CaptureQueriesContext(connection) as keeping:
        assert _kept(world, today, now) == first
    assert first == _fresh(world, today, now)
    read = [q["sql"] for q in keeping.captured_queries]
    assert len(read) == 1 and "clinic_recallversion" in read[0]  # the version, and nothing else
    # The process gives its requests the page it read, the same one (they only read it); one
    # that kept nothing takes the shared cache's copy.
    once = recall_list.kept_worklist(world.northgate, today, now, size=25)
    assert recall_list.kept_worklist(world.northgate, today, now, size=25) is once
    process_memo.clear_all()
    again = recall_list.kept_worklist(world.northgate, today, now, size=25)
    assert again is not once and _shown(again) == _shown(once) == first
    assert _kept(world, today, now, page=2) == _fresh(world, today, now, page=2)
    fran, nora = factories.actor(world.fran), world.nora
    start = factories.next_weekday_at(10, days_ahead=9)
    changes = [
        lambda: recall_desk.log_contact(fran, made["fiona"], outcome="no_answer"),
        lambda: recall_desk.log_contact(fran, made["eve"], outcome="snooze",
                                        snooze_until=today + timedelta(days=3)),
        lambda: patients.update_patient(fran, nora, family_name="Brandnew"),
        lambda: Patient.objects.filter(pk=made["fiona"].pk).update(phone="07700 900555"),
        lambda: due_dates.refresh(book(Patient.objects.get(given_name="Bea"),
                                       Booking(start, start + timedelta(hours=1), world.pat)
                                       ).patient),
        lambda: StaffMember.objects.filter(pk=world.pat.pk).update(display_name="Dr Pat"),
        lambda: Appointment.objects.filter(patient=nora, kind="follow_up").update(
            status="completed"),
        lambda: RecallEntry.objects.filter(patient__given_name="Cal").delete(),
    ]  # fmt: skip
    for i, change in enumerate(changes):
        before = _kept(world, today, now)
        change()
        assert _kept(world, today, now) == _fresh(world, today, now), f"change {i}"
        assert _kept(world, today, now) != before, f"change {i} shows"
        assert _kept(world, today, now, page=2) == _fresh(world, today, now, page=2)


def _due(world, given: str) -> Patient:
    """A patient of Pat's due for maintenance in two days (by the cadence)."""
    factories.working_hours(world.pat)
    patient = _patient(world, given)
    _treated(patient, world.pat, timezone.localdate() - timedelta(days=CADENCE_DAYS - 2), 1)
    due_dates.refresh(patient)
    return patient


@pytest.mark.django_db(transaction=True)
def test_time_alone_brings_a_held_row_and_a_missed_follow_up_onto_the_kept_list(world):
    today, now = timezone.localdate(), timezone.now()
    bea = _due(world, "Bea")
    # Bea's maintenance row is held by a booking that is over in five minutes (unmarked)...
    RecallEntry.objects.filter(patient=bea).update(booked_until=now + timedelta(minutes=5))
    # ...and Nora has a follow-up that ends in ten minutes.
    start = now - timedelta(minutes=20)
    missed = book(
        world.nora,
        Booking(start, now + timedelta(minutes=10), world.pat),
        kind=Appointment.Kind.FOLLOW_UP,
    )
    first = recall_list.kept_worklist(world.northgate, today, now)
    assert first.changes_at == now + timedelta(minutes=5)  # the first of the two
    assert not first.maintenance and not first.follow_ups
    # Nothing is written from here on: only the clock moves.
    for minutes, maintenance, follow_ups in (
        (4, [], []),
        (6, [bea.pk], []),
        (9, [bea.pk], []),
        (11, [bea.pk], [missed.pk]),
    ):
        at = now + timedelta(minutes=minutes)
        day = timezone.localdate(at)
        kept = recall_list.kept_worklist(world.northgate, day, at)
        assert [m.patient.pk for m in kept.maintenance] == maintenance, minutes
        assert [f.appointment.pk for f in kept.follow_ups] == follow_ups, minutes
        assert _shown(kept) == _fresh(world, day, at)


@pytest.mark.django_db(transaction=True)
def test_a_snooze_ends_with_its_day_on_the_kept_list(world):
    today, now = timezone.localdate(), timezone.now()
    bea = _due(world, "Bea")
    recall_desk.log_contact(
        factories.actor(world.fran), bea, outcome="snooze", snooze_until=today + timedelta(days=1)
    )
    assert recall_list.kept_worklist(world.northgate, today, now).maintenance == []
    tomorrow = now + timedelta(days=1)
    kept = recall_list.kept_worklist(world.northgate, timezone.localdate(tomorrow), tomorrow)
    assert [m.patient.pk for m in kept.maintenance] == [bea.pk]


def _page(client, page: int = 1) -> str:
    """The worklist page, its forms' CSRF token (masked anew on every page) left out."""
    page = client.get(URL, {"page": page}).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def _api(client) -> dict:
    answer = client.get("/api/v1/recall")
    assert answer.status_code == 200
    return json.loads(answer.content)


@pytest.mark.django_db(transaction=True)
def test_the_kept_page_and_api_list_are_those_read_anew_for_each_role(world, client_as, api_as):
    made = _clinic_of_many(world, extra=30)
    for persona in ("fran", "pat"):
        client = client_as(persona)
        api = api_as(persona)
        page, listed = _page(client), _api(api)
        with CaptureQueriesContext(connection) as keeping:
            assert _page(client) == page and _api(api) == listed
        assert not [q for q in keeping.captured_queries if "clinic_recallentry" in q["sql"]]
        cache.clear()
        process_memo.clear_all()
        assert _page(client) == page and _api(api) == listed  # read anew: the same
        assert _page(client, 2) != page
    # The front desk's kept page has no clinical detail, though the practitioner's was kept.
    fran = _page(client_as("fran"))
    assert "Forecast chart" in _page(client_as("pat")) and "Forecast chart" not in fran
    assert all(m["why"] is None for m in _api(api_as("fran"))["maintenance"])
    # A contact logged on the page shows on the next view, and each view is audited.
    from dermis.web.clinic.models import AuditEvent

    client = client_as("fran")
    viewed = AuditEvent.objects.filter(summary__startswith="recall worklist").count()
    assert "No answer" not in re.sub(r"\s+", " ", _page(client))
    recall_desk.log_contact(factories.actor(world.fran), made["fiona"], outcome="no_answer")
    assert "No answer" in _page(client)
    assert AuditEvent.objects.filter(summary__startswith="recall worklist").count() == viewed + 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest")
def test_migration_0031_undone_and_done_again_never_gives_a_number_twice(world):
    from django.db.migrations.executor import MigrationExecutor

    Patient.objects.filter(pk=world.nora.pk).update(phone="07700 900111")
    before = _versions(world)
    executor = MigrationExecutor(connection)
    executor.migrate([("clinic", "0030_audit_listed_patients")])
    with connection.cursor() as cursor:  # no triggers are left behind to write to nothing
        cursor.execute("UPDATE clinic_patient SET phone = phone || '1'")
        cursor.execute("UPDATE clinic_staffmember SET display_name = display_name")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("clinic", "0031_recall_version")])
    again = _versions(world)
    assert again[0] > before[0] and again[1] > before[1]
    Patient.objects.filter(pk=world.nora.pk).update(phone="07700 900222")  # triggers are back
    assert _versions(world)[0] > again[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_the_two_versions_are_locked_in_one_order_so_writers_never_deadlock(world):
    """A transaction that changed the schedule (a location renamed) and then an appointment, beside
    one that changes an appointment meanwhile: the second waits for the first (both versions'
    rows are taken schedule first), where taking them in the order the triggers fire would make
    each wait for the other."""
    factories.working_hours(world.pat)
    start = factories.next_weekday_at(10, days_ahead=5)
    first = factories.appointment(world.pat, world.nora, start)
    second = factories.appointment(world.pat, world.nora, start + timedelta(hours=2))
    versions_before = _versions(world)
    failed = second_waits_then_both_commit(
        (
            "UPDATE clinic_location SET name = name || '' WHERE clinic_id = %s",
            [world.northgate.pk],
        ),
        ("UPDATE clinic_appointment SET notes = 'b' WHERE id = %s", [second.pk]),
        ("UPDATE clinic_appointment SET notes = 'a' WHERE id = %s", [first.pk]),
    )
    assert not failed, failed
    notes = dict(
        Appointment.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "notes")
    )
    assert notes == {first.pk: "a", second.pk: "b"}
    assert _versions(world)[0] > versions_before[0]
