"""No patient name, email, phone or date of birth in any log line, over a whole journey.

The journey goes through the real middleware (test client, web pages and the API): register,
consult, accept, book, chart, finalise, grade, forecast, then search by name, phone and date of
birth (GET requests: the words are in the query string) and ask for a page that does not exist
with the name in its query (Django's 404 warning carries the request). Every line the configured
console handler writes is captured, at DEBUG, in the production JSON format.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.web.logs import RedactFilter, logging_config, redact_path
from tests import factories
from tests.api.test_api_clinical_record import ASSESSMENT

PATIENT = {
    "given_name": "Philippa",
    "family_name": "Quennell",
    "date_of_birth": "1987-04-23",
    "email": "philippa.quennell@example.org",
    "phone": "07700 900765",
}
SECRETS = ["Philippa", "Quennell", "philippa.quennell", "1987-04-23", "07700 900765", "900765"]


@pytest.fixture
def captured_logs():
    """The console handler's output (JSON lines) while the test runs, root logger at DEBUG."""
    root = logging.getLogger()
    handlers = [h for h in root.handlers if any(isinstance(f, RedactFilter) for f in h.filters)]
    assert handlers, "the settings' console handler is not installed"
    handler = handlers[0]
    json_formatter = logging.config.DictConfigurator(
        logging_config("json", "INFO")
    ).configure_formatter(logging_config("json", "INFO")["formatters"]["json"])
    stream = io.StringIO()
    old_stream, old_formatter, old_level = handler.stream, handler.formatter, root.level
    # Swap the stream without setStream(): that flushes the old one, which pytest may have closed.
    handler.stream = stream
    handler.setFormatter(json_formatter)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        handler.stream = old_stream
        handler.setFormatter(old_formatter)
        root.setLevel(old_level)


def _ok(response, *statuses):
    assert response.status_code in (statuses or (200, 201)), response.content[:600]
    return response.json() if "json" in response.get("Content-Type", "") else None


def test_a_whole_journey_logs_no_patient_data(world, client_as, api_as, captured_logs, capfd):
    api, web = api_as("pat"), client_as("pat")
    factories.working_hours(world.pat)

    patient = _ok(api.post("/api/v1/patients", PATIENT))
    pid = patient["id"]
    consultation = _ok(
        api.post(
            f"/api/v1/patients/{pid}/consultations",
            {"intake": {}, "assessment": ASSESSMENT, "fitzpatrick": "II"},
        )
    )
    plan = _ok(
        api.post(
            f"/api/v1/consultations/{consultation['id']}/accept",
            {"signer_name": "Philippa Quennell"},
        )
    )
    day = timezone.localdate() + timedelta(days=14)
    day += timedelta(days=(7 - day.weekday()) % 7)  # a Monday
    start = timezone.make_aware(datetime.combine(day, time(10, 0)))
    _ok(
        api.post(
            "/api/v1/appointments",
            {
                "patient_id": pid,
                "practitioner_id": world.pat.pk,
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
            },
        )
    )
    performed = factories.earlier_today(minutes=30)
    session = _ok(
        api.post(
            f"/api/v1/patients/{pid}/sessions",
            {
                "modality": "microneedling",
                "device": "automated_pen",
                "cartridge": "36-pin nano",
                "lot_number": "LOT-7",
                "endpoint": "erythema",
                "performed_at": performed.isoformat(),
                "areas": [{"area": "cheeks", "depth_mm": 1.0}],
                "precare_done": True,
            },
        )
    )
    _ok(api.post(f"/api/v1/sessions/{session['id']}/finalise", {"version": session["version"]}))
    _ok(
        api.post(
            f"/api/v1/patients/{pid}/grades",
            {"area": "cheeks", "concern": "acne_scars_rolling", "grade": 2, "plan_id": plan["id"]},
        )
    )
    _ok(api.get(f"/api/v1/patients/{pid}/forecast"))
    assert web.get(reverse("patient-detail", args=[pid])).status_code == 200

    for words in ("Philippa Quennell", "07700 900765", "1987-04-23", "philippa.quennell@"):
        page = web.get(reverse("patient-list"), {"q": words})
        assert page.status_code == 200 and b"Quennell" in page.content, words
        found = _ok(api.get("/api/v1/patients", q=words))
        assert any(p["id"] == pid for p in found["items"]), words
    assert web.get("/no-such-page/", {"q": "Philippa Quennell"}).status_code == 404
    assert api.get("/api/v1/patients/999999", q="Philippa").status_code == 404
    assert api.get("/api/v1/patients", date_of_birth="1987-04-23-x").status_code == 422

    logged = captured_logs.getvalue()
    out, err = capfd.readouterr()
    lines = [json.loads(line) for line in logged.splitlines() if line.strip()]
    requests = [line for line in lines if line["logger"] == "dermis.request"]
    assert len(requests) >= 20  # one line per request above, in JSON
    assert any(r["path"] == f"/api/v1/patients/{pid}/forecast" for r in requests)
    for text in (logged, out, err):
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (secret, text[:2000])


def test_query_strings_and_feed_tokens_are_redacted():
    assert redact_path('"GET /patients/?q=Ada+Lovelace HTTP/1.1" 200') == (
        '"GET /patients/?… HTTP/1.1" 200'
    )
    assert redact_path("/calendar/AbCdEfGhIjKlMnOpQrStUv_123.ics") == "/calendar/….ics"
