"""A list page viewed again with the same patients writes its event without writing the patients
a second time: the event lists them like the first (`AuditEvent.listed_like`). Each patient still
finds it, its chain hash still covers them, and the verifier reads them from the first event."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from dermis.web.clinic import audit
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.audit import record_many
from dermis.web.clinic.audit_verify import verify_chain
from dermis.web.clinic.models import AuditEvent, AuditEventPatient
from tests import factories
from tests.web.test_audit_chain import raw, triggers_lifted

on_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="listed like another: PostgreSQL's writer"
)


def _world():
    from tests.personas import build_world

    world = build_world()
    ada = factories.patient(world.pat, given="Ada", family="Lister")
    return world, [world.nora, world.rhys, ada]


def _view(world, patients) -> AuditEvent:
    actor = Actor.of_staff(world.pat, path="/recall/")
    (event,) = record_many(actor, "view", patients, summary="s")
    return event


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_patients_again_are_listed_like_the_first_event():
    world, shown = _world()
    first = _view(world, shown)
    with CaptureQueriesContext(connection) as seen:
        again = _view(world, list(reversed(shown)))  # the same patients, in another order
    assert first.listed_like is None and again.listed_like == first.pk
    assert AuditEventPatient.objects.filter(event_id=again.pk).count() == 0
    assert AuditEventPatient.objects.count() == 3
    assert "LEFT JOIN" in seen.captured_queries[-1]["sql"]
    stored = AuditEvent.objects.get(pk=again.pk)
    assert stored.listed_like == first.pk
    assert stored.patient_ids() == sorted(p.pk for p in shown)
    for patient in shown:
        found = set(AuditEvent.objects.about_patient(patient.pk).filter(action="view"))
        assert found == {first, again}
    other = _view(world, shown[:2])  # other patients: listed anew, and kept for next time
    assert other.listed_like is None
    assert AuditEventPatient.objects.filter(event_id=other.pk).count() == 2
    assert _view(world, shown[:2]).listed_like == other.pk
    assert _view(world, shown).listed_like == first.pk
    assert verify_chain().intact


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_event_not_there_with_its_hash_is_not_listed_like():
    world, shown = _world()
    first = _view(world, shown)
    key = next(iter(audit.LISTS))
    audit.LISTS[key] = (first.pk, "0" * 64)  # as if the database were another
    again = _view(world, shown)
    assert again.listed_like is None
    assert AuditEventPatient.objects.filter(event_id=again.pk).count() == 3
    audit.LISTS[key] = (first.pk + 1000, first.chain_hash)
    assert _view(world, shown).listed_like is None
    assert verify_chain().intact


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_an_event_is_not_kept_to_be_listed_like():
    world, shown = _world()
    with transaction.atomic():
        first = _view(world, shown)
    assert audit.LISTS == {}
    assert first.listed_like is None and _view(world, shown).listed_like is None
    # A kept event is listed like inside a transaction too: it has been committed.
    assert _view(world, shown).listed_like is not None
    with transaction.atomic():
        inside = _view(world, shown)
    assert inside.listed_like is not None
    assert verify_chain().intact


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_verifier_reads_the_first_events_patients_and_finds_them_changed(monkeypatch):
    from dermis.web.clinic import audit_verify

    world, shown = _world()
    first = _view(world, shown)
    _view(world, [world.nora, world.rhys])  # another list between them
    again = _view(world, shown)
    assert again.listed_like == first.pk
    monkeypatch.setattr(audit_verify, "LISTS_KEPT", 1)  # the first's list read back anew
    assert verify_chain().intact
    with triggers_lifted():
        raw(
            f'DELETE FROM "{AuditEventPatient._meta.db_table}" '
            "WHERE event_id = %s AND patient_id_ref = %s",
            [first.pk, shown[2].pk],
        )
    report = verify_chain()
    assert not report.intact and report.broken_seq == first.seq


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_each_event_lists_its_patients():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's writer")
    world, shown = _world()
    first, again = _view(world, shown), _view(world, shown)
    assert first.listed_like is None and again.listed_like is None
    assert AuditEventPatient.objects.filter(event_id=again.pk).count() == 3
    assert set(AuditEvent.objects.about_patient(shown[2].pk).filter(action="view")) == {
        first,
        again,
    }
    assert verify_chain().intact
