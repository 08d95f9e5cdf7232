"""The Twilio SMS backend against a local fake of its Messages API; no number or text in logs;
a production worker refuses to start with SMS on and a backend that delivers nothing."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
import threading
from datetime import time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from dermis.web.clinic.models import Reminder
from dermis.web.clinic.reminders import delivery, sms
from dermis.web.clinic.reminders import services as reminders
from dermis.web.clinic.reminders.twilio import TwilioSMSBackend
from dermis.web.clinic.scheduling.booking import Booking, book

Status = Reminder.Status
SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "secret-auth-token"


class FakeTwilio(BaseHTTPRequestHandler):
    """Answers POST /2010-04-01/Accounts/<sid>/Messages.json as Twilio documents it."""

    received: list[dict] = []
    answer: tuple[int, dict] = (201, {"sid": "SM00000000000000000000000000000001"})

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        type(self).received.append(
            {"path": self.path, "auth": self.headers["Authorization"], "form": form}
        )
        status, body = type(self).answer
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def twilio(settings):
    FakeTwilio.received = []
    FakeTwilio.answer = (201, {"sid": "SM00000000000000000000000000000001"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "dermis.web.clinic.reminders.twilio.TwilioSMSBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    settings.TWILIO_FROM, settings.TWILIO_MESSAGING_SERVICE_SID = "+447700900000", ""
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{server.server_port}"
    yield FakeTwilio
    server.shutdown()
    server.server_close()


def _due_sms(world) -> Reminder:
    start = reminders.at_clinic_time(timezone.localdate() + timedelta(days=10), time(9, 30))
    appt = book(world.nora, Booking(start, start + timedelta(hours=1), world.pat))
    reminders.plan_for_appointment(appt)
    row = Reminder.objects.get(appointment=appt, kind="appointment", channel="sms")
    now = timezone.now()
    Reminder.objects.filter(pk=row.pk).update(due_at=now, next_try_at=now)
    return row


def test_a_reminder_goes_to_twilios_messages_api(world, twilio, caplog):
    row = _due_sms(world)
    caplog.set_level(logging.DEBUG)

    assert delivery.deliver(row.pk) == "sent"

    (request,) = twilio.received
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["auth"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request["form"]["To"] == "07700 900123"
    assert request["form"]["From"] == "+447700900000"
    assert request["form"]["Body"].startswith("Northgate Skin Clinic: reminder of your")
    row.refresh_from_db()
    assert (row.status, row.message_id) == (Status.SENT, "sms:SM00000000000000000000000000000001")
    logged = caplog.text
    assert "900123" not in logged and "Northgate Skin Clinic: reminder" not in logged
    assert TOKEN not in logged


def test_a_bad_number_fails_at_once_with_twilios_code_and_nothing_personal_logged(
    world, twilio, caplog
):
    row = _due_sms(world)
    twilio.answer = (400, {"code": 21211, "message": "The 'To' number 07700 900123 is not valid"})
    caplog.set_level(logging.DEBUG)

    assert delivery.deliver(row.pk) == "failed"

    row.refresh_from_db()
    assert (row.status, row.last_error) == (Status.FAILED, "Twilio HTTP 400 code 21211")
    assert "900123" not in caplog.text and "900123" not in row.last_error


def test_twilio_busy_is_retried_later(world, twilio):
    row = _due_sms(world)
    twilio.answer = (503, {"code": 20503, "message": "Service unavailable"})

    assert delivery.deliver(row.pk) == "retry"

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (
        Status.PENDING,
        1,
        "Twilio HTTP 503 code 20503",
    )


def test_a_messaging_service_replaces_the_sender(world, twilio, settings):
    settings.TWILIO_FROM, settings.TWILIO_MESSAGING_SERVICE_SID = "", "MG123"

    TwilioSMSBackend().send("+447700900123", "Hello")

    form = twilio.received[0]["form"]
    assert form["MessagingServiceSid"] == "MG123" and "From" not in form


def test_an_unreachable_provider_is_a_temporary_failure(settings):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    settings.TWILIO_FROM, settings.TWILIO_API_BASE = "+447700900000", "http://127.0.0.1:9"

    with pytest.raises(sms.SMSError) as caught:
        TwilioSMSBackend().send("+447700900123", "Hello")

    assert not caught.value.permanent
    assert "900123" not in str(caught.value)


def test_missing_credentials_are_a_permanent_failure(settings):
    settings.TWILIO_ACCOUNT_SID = ""

    with pytest.raises(sms.SMSError, match="DERMIS_TWILIO_ACCOUNT_SID") as caught:
        TwilioSMSBackend()

    assert caught.value.permanent


WORKER = Path(sys.executable).with_name("dermis")


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        ({}, True),  # the console backend is the default
        ({"DERMIS_SMS_REMINDERS": "0"}, False),
    ],
)
def test_production_refuses_the_console_sms_backend(clean_env, extra, refused):
    env = {
        **clean_env,
        "DERMIS_ENV": "production",
        "DERMIS_SECRET_KEY": "x" * 50,
        "DERMIS_RECORD_KEY": "r" * 50,
        "DATABASE_URL": "sqlite:///" + clean_env["DERMIS_DATA_DIR"] + "/none.sqlite3",
        **extra,
    }
    Path(clean_env["DERMIS_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(WORKER), "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    if refused:
        assert done.returncode != 0
        assert "SMS reminders are on but DERMIS_SMS_BACKEND is" in done.stderr
        assert "Traceback" not in done.stderr
    else:
        # Past the check: it goes on to the database (not migrated here) and fails there.
        assert "SMS reminders are on" not in done.stderr
