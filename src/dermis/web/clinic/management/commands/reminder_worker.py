"""`dermis manage reminder_worker [--once] [--interval S]`: send reminders as they fall due.

Each round first re-queues due reminders that no queued task will send (a worker killed mid-run
leaves its task RUNNING), then runs the django-tasks database worker until nothing is ready.
Progress goes to stderr as counts and ids only, never patient data.
"""

from __future__ import annotations

import time
from collections import Counter

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TaskResultStatus, task_finished
from django_tasks_db.management.commands.db_worker import Worker, valid_interval

from dermis.web.clinic.reminders.tasks import deliver_reminder, requeue_due


class Command(BaseCommand):
    help = "Send due reminders from the database task queue (re-queuing any a crash left)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then exit")
        parser.add_argument(
            "--interval",
            type=valid_interval,
            default=5.0,
            help="seconds to wait between rounds when the queue is empty (default 5)",
        )

    def handle(self, *, once: bool, interval: float, **options) -> None:
        outcomes: Counter[str] = Counter()

        def count(sender, task_result, **kwargs) -> None:
            if task_result.task.func is not deliver_reminder.func:
                return
            ok = task_result.status == TaskResultStatus.SUCCESSFUL
            outcomes[str(task_result.return_value) if ok else "error"] += 1

        worker = Worker(
            queue_names=[deliver_reminder.queue_name],
            interval=interval,
            batch=True,
            backend_name=deliver_reminder.backend,
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        task_finished.connect(count, weak=False)
        try:
            while worker.running:
                due, queued = requeue_due()
                if due or once:
                    self.stderr.write(f"reminder_worker: {due} due, {queued} re-queued")
                outcomes.clear()
                worker.run()
                if outcomes or once:
                    done = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
                    self.stderr.write(f"reminder_worker: ran {outcomes.total()} ({done or '-'})")
                if once:
                    break
                time.sleep(interval)
        finally:
            task_finished.disconnect(count)
