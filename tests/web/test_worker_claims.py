"""The worker's claim: one indexed read of due work per round, whatever the size of the queue;
a claim is a lease, and a result is recorded only under the claim that sent it."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dermis.web.clinic.models import Reminder
from dermis.web.clinic.reminders import delivery

Status = Reminder.Status


def _rows(patient, count: int, *, due_in: timedelta, prefix: str) -> list[Reminder]:
    when = timezone.now() + due_in
    return Reminder.objects.bulk_create(
        Reminder(
            key=f"{prefix}:{i}",
            patient=patient,
            kind="recall",
            due_at=when + timedelta(seconds=i),
            next_try_at=when + timedelta(seconds=i),
        )
        for i in range(count)
    )


def _claim_queries(patient, waiting: int) -> tuple[int, tuple[int, ...], list[int]]:
    Reminder.objects.all().delete()
    _rows(patient, waiting, due_in=timedelta(days=3), prefix="later")  # not due: never read
    due = _rows(patient, 4, due_in=-timedelta(hours=1), prefix="due")
    with CaptureQueriesContext(connection) as queries:
        taken = delivery.claim(batch=3)
    return len(queries), taken.ids, [r.pk for r in due]


def test_a_round_reads_only_due_work_in_a_constant_number_of_queries(world):
    small, _, _ = _claim_queries(world.nora, 5)
    count, ids, due = _claim_queries(world.nora, 300)

    assert count == small
    assert ids == tuple(due[:3])  # oldest first, up to the batch
    claimed = Reminder.objects.filter(pk__in=ids)
    assert {r.status for r in claimed} == {Status.SENDING}
    assert Reminder.objects.filter(status=Status.SENDING).count() == 3


def test_the_claim_query_uses_the_due_work_index(world):
    due = Reminder.objects.filter(
        status__in=delivery.ACTIVE, next_try_at__lte=timezone.now()
    ).order_by("next_try_at", "pk")
    sql, params = due.values_list("pk", flat=True)[:20].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table would be scanned
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "reminder_due_work" in plan, plan


def test_a_claim_is_a_lease_and_a_lapsed_one_is_taken_again(world):
    (row,) = _rows(world.nora, 1, due_in=-timedelta(minutes=1), prefix="lease")
    first = delivery.claim()

    assert first.ids == (row.pk,)
    assert delivery.claim().ids == ()  # held
    later = timezone.now() + delivery.LEASE + timedelta(seconds=1)
    second = delivery.claim(now=later)
    assert second.ids == (row.pk,)

    # The first round's late result does not overwrite the second round's claim.
    row.refresh_from_db()
    assert not delivery._record(row, first.token, status=Status.SENT)
    assert delivery._record(row, second.token, status=Status.SENT, next_try_at=None)
    row.refresh_from_db()
    assert (row.status, row.claim_token, row.next_try_at) == (Status.SENT, None, None)


def test_the_worker_counts_only_what_it_really_sent(world, mailoutbox):
    rows = _rows(world.nora, 4, due_in=-timedelta(minutes=1), prefix="count")
    Reminder.objects.filter(pk=rows[0].pk).update(patient=world.rhys)  # no e-mail address

    outcomes = delivery.run_round()

    assert outcomes == {"sent": 3, Status.FAILED: 1}
    assert len(mailoutbox) == 3
