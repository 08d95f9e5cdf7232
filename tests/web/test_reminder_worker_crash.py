"""The reminder worker killed mid-send loses nothing and sends nothing twice.

A real `dermis worker --once` process works on this test's database (SQLite file or PostgreSQL,
whichever the suite runs on) and a real SMTP server (aiosmtpd) that holds the third message in
RCPT; the test SIGKILLs the worker there, lets its claim's lease lapse, starts it again, and
counts what arrived by Message-ID.
"""

from __future__ import annotations

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from email.policy import default as email_policy
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone

from dermis.web.clinic.models import Reminder
from dermis.web.clinic.reminders import services as reminders

# Starts servers or interpreters: `make test-fast` leaves these out.
pytestmark = pytest.mark.slow

COUNT = 4
BLOCK_AT = 3
DERMIS = Path(sys.executable).with_name("dermis")


class BlockingInbox:
    """Accepts every message except the `block_at`-th, whose RCPT never gets an answer."""

    def __init__(self, block_at: int) -> None:
        self.block_at = block_at
        self.recipients = 0
        self.blocked = threading.Event()
        self.message_ids: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.recipients += 1
        if self.recipients == self.block_at:
            self.blocked.set()
            await asyncio.sleep(600)  # until the worker dies and the connection drops
            return "451 4.3.0 too late"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email_policy)
        self.message_ids.append(message["Message-ID"])
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    """This test's database, for another process (settings.py reads DATABASE_URL)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}?{urlencode(db.get('OPTIONS') or {})}"
    user = quote(db["USER"] or "", safe="")
    auth = f"{user}:{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else user
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def smtp():
    handler = BlockingInbox(BLOCK_AT)
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=30)
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def worker_env(clean_env, smtp):
    return {
        **clean_env,
        "DERMIS_ENV": "test",
        "DATABASE_URL": _database_url(),
        "DERMIS_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DERMIS_EMAIL_HOST": "127.0.0.1",
        "DERMIS_EMAIL_PORT": str(smtp[1]),
        "DERMIS_SECRET_KEY": settings.SECRET_KEY,  # the Message-ID is keyed on it
        "DERMIS_FROM_EMAIL": settings.DEFAULT_FROM_EMAIL,
    }


def _due_reminders(patient) -> list[Reminder]:
    """COUNT due e-mail reminders, queued as planning queues them."""
    now = timezone.now()
    rows = []
    for i in range(COUNT):
        due = now - timedelta(minutes=COUNT - i)
        row = Reminder.objects.create(
            key=f"crash-test:{i}",
            patient=patient,
            kind=Reminder.Kind.RECALL,
            due_at=due,
            next_try_at=due,
        )
        rows.append(row)
    return rows


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    world, smtp, worker_env, tmp_path
):
    inbox, _ = smtp
    rows = _due_reminders(world.nora)
    command = [str(DERMIS), "worker", "--once"]

    with open(tmp_path / "first.err", "w+") as err:
        first = subprocess.Popen(command, env=worker_env, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 240
        while not inbox.blocked.wait(0.2):
            assert first.poll() is None, f"worker exited early: {Path(err.name).read_text()}"
            assert time.monotonic() < deadline, "the worker never reached the third message"
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=60) == -signal.SIGKILL

    statuses = [Reminder.objects.get(pk=r.pk).status for r in rows]
    # The killed round had claimed the rest: they wait for its lease to lapse, nobody sends them.
    assert statuses == ["sent"] * (BLOCK_AT - 1) + ["sending"] * (COUNT - BLOCK_AT + 1)
    assert len(inbox.message_ids) == BLOCK_AT - 1
    Reminder.objects.filter(status="sending").update(next_try_at=timezone.now())  # lapsed

    second = subprocess.run(command, env=worker_env, capture_output=True, text=True, timeout=300)

    assert second.returncode == 0, second.stderr
    assert f"sent {COUNT - BLOCK_AT + 1}" in second.stderr
    expected = {reminders.message_id(r.key) for r in rows}
    assert Counter(inbox.message_ids) == dict.fromkeys(expected, 1)
    for row in rows:
        row.refresh_from_db()
        assert row.status == Reminder.Status.SENT
        assert row.message_id == reminders.message_id(row.key)
    logs = second.stderr + (tmp_path / "first.err").read_text()
    assert "nora" not in logs.lower() and "quinn" not in logs.lower()
