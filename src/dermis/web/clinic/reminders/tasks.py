"""Background tasks (django-tasks, database backend), run by `dermis manage reminder_worker`."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from dermis.web.clinic.models import Reminder
from dermis.web.clinic.reminders import services as reminders


@task()
def deliver_reminder(reminder_id: int) -> str:
    """Send one reminder. Idempotent: running it twice for one id sends one message."""
    return reminders.deliver(reminder_id)


def _queued_ids() -> set[int]:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    results = DBTaskResult.objects.filter(
        task_path=deliver_reminder.module_path, status=TaskResultStatus.READY
    )
    ids = set()
    for call in results.values_list("args_kwargs", flat=True):
        args, kwargs = call.get("args") or [], call.get("kwargs") or {}
        ids.add(args[0] if args else kwargs.get("reminder_id"))
    return ids


def requeue_due(now: datetime | None = None) -> tuple[int, int]:
    """Queue a task for every due, pending reminder that no queued task will send.

    Returns (due reminders found, tasks queued). A pending row that is not locked is not being
    delivered at this moment, so a RUNNING task for it was left behind by a killed worker (the
    database backend leaves those RUNNING for ever). Queuing a reminder twice is harmless.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # skip_locked (PostgreSQL): rows a live delivery holds. SQLite waits for it to commit.
        due = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(status=Reminder.Status.PENDING, due_at__lte=now)
            .only("pk", "due_at", "attempts", "claimed_at")
        )
        queued = _queued_ids()
        missing = [r for r in due if r.pk not in queued]
        for row in missing:
            deliver_reminder.using(run_after=reminders.next_attempt_at(row)).enqueue(row.pk)
    return len(due), len(missing)
