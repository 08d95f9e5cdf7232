"""Background tasks (django-tasks, database backend), run by `dermis worker` between rounds.

Reminders do not go through this queue: the worker claims them straight from the outbox table
(`delivery.py`). `deliver_reminder` stays so tasks queued by earlier versions still run.
"""

from __future__ import annotations

from django_tasks import task

from dermis.web.clinic.reminders import delivery


@task()
def deliver_reminder(reminder_id: int) -> str:
    """Send one reminder if it is due and unclaimed. Running it twice sends it once."""
    return delivery.deliver(reminder_id)
