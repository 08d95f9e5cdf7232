"""`dermis worker` (or `dermis manage reminder_worker`) [--once] [--interval S] [--batch N].

Each round claims due reminders with one indexed query, sends them with no transaction open,
records each result, lapses expired waitlist offers and runs any other queued background task.
It sleeps only when a round found nothing to do. SIGTERM or SIGINT finishes the message in hand,
then stops. Progress goes to stderr as counts of what really happened, never patient data.
Refuses to start in production when SMS reminders are on with a backend that delivers nothing.
"""

from __future__ import annotations

import logging
import signal
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker, valid_interval

from dermis.web.clinic.reminders import delivery, sms
from dermis.web.clinic.reminders.tasks import deliver_reminder
from dermis.web.clinic.waitlist.services import lapse_expired


class Command(BaseCommand):
    help = "Send due reminders and waitlist offers, and run queued background tasks."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then exit")
        parser.add_argument(
            "--interval",
            type=valid_interval,
            default=5.0,
            help="seconds to wait when a round found nothing to do (default 5)",
        )
        parser.add_argument(
            "--batch", type=int, default=delivery.BATCH, help="reminders claimed per round"
        )

    def handle(self, *, once: bool, interval: float, batch: int, **options) -> None:
        if problem := sms.production_problem():
            raise CommandError(problem)
        # The task worker announces itself on every round; only real work is worth a line.
        logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
        self.running = True

        def stop(signum, frame) -> None:
            self.running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        tasks = Worker(
            queue_names=[deliver_reminder.queue_name],
            interval=interval,
            batch=True,
            backend_name=deliver_reminder.backend,
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        total: Counter[str] = Counter()
        while self.running:
            outcomes = delivery.run_round(batch=batch)
            lapsed = lapse_expired()
            tasks.run()
            total.update(outcomes)
            if outcomes or lapsed:
                done = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
                self.stderr.write(f"worker: {done or 'nothing sent'}; {lapsed} offers lapsed")
            if once and outcomes.total() < batch:
                break
            if outcomes.total() < batch:
                time.sleep(interval)
        sent = total.get("sent", 0)
        self.stderr.write(f"worker: stopped; sent {sent}, {total.total() - sent} other outcomes")
