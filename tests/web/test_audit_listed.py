"""A list page's view is one audit event listing its patients (`record_many`): each patient is
found by it, the chain covers the list, and the list is as append-only as the events."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from dermis.web import portability
from dermis.web.clinic import audit_triggers
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.audit import record, record_many
from dermis.web.clinic.audit_verify import verify_chain
from dermis.web.clinic.models import AuditEvent, AuditEventPatient
from dermis.web.clinic.patients import services as patients
from tests import factories
from tests.web import test_recall_worklist as worklist
from tests.web.test_audit_chain import raw, triggers_lifted

LISTED = audit_triggers.LISTED_TABLE
URL, due = worklist.URL, worklist.due  # the worklist's due patients (a fixture)


@pytest.fixture
def three(world):
    """Nora, Rhys and a third patient of the same clinic, and a page's event listing all three."""
    ada = factories.patient(world.pat, given="Ada", family="Lister")
    shown = [world.rhys, world.nora, ada, world.nora]  # Nora twice: listed once
    (event,) = record_many(Actor.of_staff(world.pat, path="/recall/"), "view", shown, summary="s")
    return event, [world.nora, world.rhys, ada]


def test_one_event_lists_every_patient_shown_once(three):
    event, shown = three
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.patient_id_ref is None and stored.object_type == "Patient"
    assert stored.summary == "s, 3 patients"
    assert stored.patient_ids() == sorted(p.pk for p in shown)
    assert AuditEventPatient.objects.filter(event=stored).count() == 3
    assert verify_chain().intact


def test_one_patient_is_the_events_own_and_lists_none(world):
    (event,) = record_many(Actor.of_staff(world.pat), "view", [world.nora], summary="s")
    assert (event.patient_id_ref, event.summary, event.object_id) == (
        world.nora.pk,
        "s",
        str(world.nora.pk),
    )
    assert not AuditEventPatient.objects.exists()


def test_each_patient_finds_the_event_beside_their_own(world, three):
    event, (nora, rhys, ada) = three
    created = AuditEvent.objects.get(patient_id_ref=ada.pk, action="create")
    own = record(factories.actor(world.pat), "view", nora)
    record(factories.actor(world.pat), "view", rhys)  # someone else's
    assert set(AuditEvent.objects.about_patient(nora.pk).filter(action="view")) == {event, own}
    assert set(AuditEvent.objects.about_patient(ada.pk)) == {created, event}
    assert not AuditEvent.objects.about_patient(ada.pk + 1000).exists()


def test_removing_adding_or_moving_a_listed_patient_breaks_the_chain(world, three):
    event, (_, rhys, ada) = three
    listed = AuditEventPatient.objects.get(event=event, patient_id_ref=ada.pk)
    for change, params in (
        (f"DELETE FROM {LISTED} WHERE id = %s", [listed.pk]),
        (f"INSERT INTO {LISTED} (event_id, patient_id_ref) VALUES (%s, %s)", [event.pk, ada.pk]),
        (f"UPDATE {LISTED} SET patient_id_ref = %s WHERE event_id = %s", [rhys.pk, event.pk]),
    ):
        with transaction.atomic():
            with triggers_lifted():
                raw(change, params)
            report = verify_chain()
            assert report.broken_event_id == event.pk and "altered" in report.reason, change
            transaction.set_rollback(True)
    assert verify_chain().intact


def test_the_database_and_the_model_refuse_changing_the_list(three):
    event, _ = three
    for sql in (f"DELETE FROM {LISTED}", f"UPDATE {LISTED} SET patient_id_ref = 1"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw(sql)
    listed = AuditEventPatient.objects.filter(event=event)
    for refused in (listed.delete, lambda: listed.update(patient_id_ref=1), listed.first().delete):
        with pytest.raises(PermissionError):
            refused()
    with pytest.raises(PermissionError):
        AuditEventPatient(event=event, patient_id_ref=1).save()
    assert listed.count() == 3


def test_the_patients_export_erasure_and_audit_log_find_the_event(world, client_as, three):
    event, (nora, rhys, ada) = three
    created = AuditEvent.objects.get(patient_id_ref=ada.pk, action="create")
    record(factories.actor(world.pat), "view", rhys)
    response = client_as("alice").get(reverse("audit-log"), {"patient": ada.pk})
    assert [e.pk for e in response.context["page"]["events"]] == [event.pk, created.pk]
    assert "s, 3 patients" in response.content.decode()
    trail = portability.subject_access(ada)["audit_trail"]
    assert [e["id"] for e in trail] == [created.pk, event.pk]
    ids = sorted([nora.pk, rhys.pk, ada.pk])
    out = patients.erase_patient(
        Actor.of_staff(world.alice, channel="cli"), ada, confirm=f"erase patient {ada.pk}"
    )
    # Ada's registration, the page that listed her, and the erasure's own event.
    assert out["audit_events_kept"] == 3
    assert AuditEvent.objects.get(pk=event.pk).patient_ids() == ids
    assert verify_chain().intact


def test_the_recall_worklist_writes_one_event_listing_whom_it_shows(world, client_as, due):
    client = client_as("pat")
    client.get(URL)
    before = AuditEvent.objects.count()
    response = client.get(URL)
    assert response.status_code == 200
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("seq")
    shown = {row.patient.pk for row in response.context["maintenance"]}
    assert len(shown) >= 3 and shown <= set(event.patient_ids())
    assert event.summary == f"recall worklist, {len(event.patient_ids())} patients"


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_event_and_its_list_are_one_statement_on_postgresql(world):
    from django.test.utils import CaptureQueriesContext

    record(factories.actor(world.pat), "view", world.nora)  # the head exists
    with CaptureQueriesContext(connection) as seen:
        record_many(factories.actor(world.pat), "view", [world.nora, world.rhys])
    writes = [q["sql"] for q in seen.captured_queries if "INSERT" in q["sql"]]
    assert len(writes) == 1 and LISTED in writes[0]
