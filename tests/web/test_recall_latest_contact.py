"""Each patient's newest recall contact is kept as a row of its own (`LatestRecallContact`), which
the worklist joins: it follows every logged call, a merge finds it again, and migration 0023 fills
it from the contacts logged before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import LatestRecallContact, RecallContact
from dermis.web.clinic.patients import services as patients
from dermis.web.clinic.scheduling import recall_desk, recall_list
from tests import factories
from tests.web import test_recall_worklist

due = test_recall_worklist.due  # the fixture: Fiona, Bea and Cal due


def _latest(patient) -> RecallContact | None:
    row = LatestRecallContact.objects.filter(patient=patient).select_related("contact").first()
    return row.contact if row else None


def _maintenance_row(patient):
    now = timezone.now()
    rows = recall_list.maintenance(patient.clinic, timezone.localdate(now), now)
    return next((r for r in rows if r.patient_id == patient.pk), None)


def test_the_latest_contact_follows_each_call_by_its_time(world, due):
    fiona, _ = due["fiona"]
    desk = Actor.of_staff(world.fran)
    assert _latest(fiona) is None
    assert _maintenance_row(fiona).contact_outcome is None
    now = timezone.now()
    with clock.frozen_at(now - timedelta(hours=2)):
        first = recall_desk.log_contact(desk, fiona, outcome="no_answer")
    assert _latest(fiona) == first
    with clock.frozen_at(now):
        second = recall_desk.log_contact(desk, fiona, outcome="left_message")
    assert _latest(fiona) == second
    # A call logged with an earlier time (a clock set back) does not hide the newer one.
    with clock.frozen_at(now - timedelta(hours=1)):
        recall_desk.log_contact(desk, fiona, outcome="called")
    assert _latest(fiona) == second
    row = _maintenance_row(fiona)
    assert (row.contact_outcome, row.contact_by) == ("left_message", world.fran.user.username)
    assert LatestRecallContact.objects.filter(patient=fiona).count() == 1


def test_a_snooze_read_through_the_latest_contact_hides_the_row_until_its_day(world, due):
    fiona, _ = due["fiona"]
    desk = Actor.of_staff(world.fran)
    recall_desk.log_contact(
        desk, fiona, outcome="snooze", snooze_until=clock.today() + timedelta(days=3)
    )
    assert _maintenance_row(fiona) is None
    later = timezone.now() + timedelta(days=3)
    rows = recall_list.maintenance(fiona.clinic, timezone.localdate(later), later)
    assert fiona.pk in [r.patient_id for r in rows]  # the snooze's day: back on the list


def test_a_merge_keeps_the_newest_contact_of_both_records(world):
    desk, admin = Actor.of_staff(world.fran), Actor.of_staff(world.alice)
    keep = world.nora
    duplicate = factories.patient(world.pat, "Nora", "Quinn-Dup")
    now = timezone.now()
    with clock.frozen_at(now - timedelta(days=1)):
        recall_desk.log_contact(desk, keep, outcome="no_answer")
    with clock.frozen_at(now):
        newest = recall_desk.log_contact(desk, duplicate, outcome="declined")
    patients.merge_patients(admin, keep, duplicate)
    assert _latest(keep) == newest
    assert LatestRecallContact.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_migration_0023_points_each_patient_at_their_newest_contact(world, back_to_the_latest):
    clinic = world.northgate
    ada = factories.patient(world.pat, "Ada", "Lovelace")
    bob = factories.patient(world.pat, "Bob", "Babbage")
    factories.patient(world.pat, "Cy", "Nocalls")
    now = timezone.now()
    made = {}
    for who, outcome, hours_ago in ((ada, "called", 5), (ada, "declined", 1), (bob, "booked", 2)):
        made[(who.pk, outcome)] = RecallContact.objects.create(
            clinic=clinic, patient=who, outcome=outcome, at=now - timedelta(hours=hours_ago)
        )
    # Two at the same moment: the later id is the newer.
    same = now - timedelta(hours=1)
    RecallContact.objects.create(clinic=clinic, patient=bob, outcome="called", at=same)
    tie = RecallContact.objects.create(clinic=clinic, patient=bob, outcome="no_answer", at=same)

    executor = MigrationExecutor(connection)
    executor.migrate([("clinic", "0022_audit_log_indexes")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("clinic", "0023_latest_recall_contact")])

    pointed = dict(LatestRecallContact.objects.values_list("patient_id", "contact_id"))
    assert pointed == {ada.pk: made[(ada.pk, "declined")].pk, bob.pk: tie.pk}
