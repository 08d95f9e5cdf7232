"""Real `dermis worker` processes against this test's database and a real SMTP server (aiosmtpd):
two at once never send a message twice (PostgreSQL), and a slow mail server does not hold up
the clinic's writes (an API PATCH answers while the worker waits for the server)."""

from __future__ import annotations

import asyncio
import email
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta
from email.policy import default as email_policy

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from dermis.web.clinic.models import Reminder
from dermis.web.clinic.reminders import services as reminders
from tests.web.test_reminder_worker_crash import DERMIS, _free_port
from tests.web.test_reminder_worker_crash import worker_env as worker_env  # the fixture

pytestmark = pytest.mark.slow


class SlowInbox:
    """Accepts every message after `delay` seconds in DATA; counts Message-IDs."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.message_ids: list[str] = []
        self.in_data = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.in_data.set()
        await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email_policy)
        self.message_ids.append(message["Message-ID"])
        return "250 Message accepted for delivery"


def _serve(handler):
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=30)
    controller.start()
    return controller


@pytest.fixture
def smtp(request):
    """(handler, port) for worker_env; the handler's delay in seconds is the test's parameter."""
    handler = SlowInbox(request.param)
    controller = _serve(handler)
    yield handler, controller.port
    controller.stop()


def _due(patient, count: int) -> list[Reminder]:
    now = timezone.now() - timedelta(minutes=1)
    return [
        Reminder.objects.create(
            key=f"worker-test:{i}",
            patient=patient,
            kind=Reminder.Kind.RECALL,
            due_at=now,
            next_try_at=now,
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("smtp", [0.2], indirect=True)
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_once(world, smtp, worker_env):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims between processes: PostgreSQL")
    inbox, _ = smtp
    rows = _due(world.nora, 24)
    command = [str(DERMIS), "worker", "--once", "--batch", "3", "--interval", "0.1"]

    workers = [
        subprocess.Popen(command, env=worker_env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    errors = [w.communicate(timeout=300)[1] for w in workers]

    assert [w.returncode for w in workers] == [0, 0], errors
    expected = {reminders.message_id(r.key) for r in rows}
    assert Counter(inbox.message_ids) == dict.fromkeys(expected, 1)
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    sent = [int(e.rsplit("sent ", 1)[1].split(",")[0]) for e in errors]
    assert sum(sent) == len(rows) and min(sent) > 0  # both worked, each counted only its own


@pytest.mark.parametrize("smtp", [8.0], indirect=True)
@pytest.mark.django_db(transaction=True)
def test_a_slow_mail_server_does_not_delay_an_api_patch(world, smtp, worker_env, api_as):
    inbox, _ = smtp
    _due(world.nora, 1)
    client = api_as("pat")  # a clinical role may replace a phone number
    # A first request loads the URLs and API schemas (seconds on a busy machine): not measured.
    warm = client.patch(f"/api/v1/patients/{world.nora.pk}", {"phone": "0113 496 0001"})
    assert warm.status_code == 200
    worker = subprocess.Popen(
        [str(DERMIS), "worker", "--once"], env=worker_env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not inbox.in_data.wait(0.2):
            assert worker.poll() is None, worker.communicate()[1]
            assert time.monotonic() < deadline, "the worker never reached the mail server"
        began = time.monotonic()
        response = client.patch(f"/api/v1/patients/{world.nora.pk}", {"phone": "0113 496 0000"})
        took = time.monotonic() - began
        accepted_meanwhile = len(inbox.message_ids)
    finally:
        _, err = worker.communicate(timeout=120)

    assert response.status_code == 200, response.content
    # The server had not yet accepted the message when the PATCH answered: it did not wait.
    assert accepted_meanwhile == 0
    assert took < inbox.delay / 2, f"the PATCH waited {took:.1f} s"
    assert worker.returncode == 0, err
    assert len(inbox.message_ids) == 1
