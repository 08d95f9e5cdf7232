"""Calendar feeds and the booking confirmation's .ics, read by parsers Dermis does not use:
vobject (Python) and node-ical (node). Same events, same instants, no private data; and a feed
answers 304 to a calendar app that already has its current version."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import vobject
from django.urls import reverse

from dermis.web.clinic.models import Appointment, Reminder
from dermis.web.clinic.reminders.render import render
from tests import factories

SCRIPT = Path(__file__).with_name("parse_ics.js")
LEAKS = ("Nora", "Quinn", "nora@", "07700")  # name, e-mail, phone


def _node_events(raw: bytes) -> list[dict]:
    node = shutil.which("node")
    assert node, "node is needed (make test installs the npm packages)"
    done = subprocess.run(
        [node, str(SCRIPT)], input=raw, capture_output=True, cwd=SCRIPT.parents[2], timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return json.loads(done.stdout)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _ours(raw: bytes) -> list[dict]:
    """The events as icalendar (the library that wrote them) reads them."""
    cal = icalendar.Calendar.from_ical(raw)
    return sorted(
        (
            {"uid": str(e["UID"]), "start": _utc(e["DTSTART"].dt), "end": _utc(e["DTEND"].dt),
             "summary": str(e["SUMMARY"]), "description": str(e.get("DESCRIPTION", "")),
             "location": str(e.get("LOCATION", "")), "status": str(e.get("STATUS", ""))}
            for e in cal.walk("VEVENT")
        ),
        key=lambda e: e["start"],
    )  # fmt: skip


def _vobject(raw: bytes) -> list[dict]:
    cal = vobject.readOne(raw.decode())
    out = []
    for e in cal.vevent_list:
        field = lambda name, e=e: getattr(e, name).value if hasattr(e, name) else ""  # noqa: E731
        out.append(
            {"uid": field("uid"), "start": _utc(field("dtstart")), "end": _utc(field("dtend")),
             "summary": field("summary"), "description": field("description"),
             "location": field("location"), "status": field("status")}
        )  # fmt: skip
    return sorted(out, key=lambda e: e["start"])


def _node(raw: bytes) -> list[dict]:
    events = _node_events(raw)
    for e in events:
        e["start"] = e["start"].replace(".000Z", "Z")
        e["end"] = e["end"].replace(".000Z", "Z")
    return sorted(events, key=lambda e: e["start"])


def _agree(raw: bytes, count: int) -> list[dict]:
    ours = _ours(raw)
    assert len(ours) == count
    assert _vobject(raw) == ours
    assert _node(raw) == ours
    text = raw.decode()
    assert not [leak for leak in LEAKS if leak in text]
    return ours


@pytest.fixture
def booked(world):
    world.nora.email, world.nora.phone = "nora@example.org", "07700 900123"
    world.nora.save()
    factories.working_hours(world.pat)
    # One in winter time and one in summer time: the instants must survive either way.
    winter = factories.next_weekday_at(10, days_ahead=1)
    while winter.month not in (12, 1, 2):
        winter += timedelta(days=1)
    summer = winter + timedelta(days=182)
    kind = Appointment.Kind.CONSULTATION
    return [
        factories.appointment(world.pat, world.nora, when, kind=kind, notes="Prefers mornings")
        for when in (winter, summer)
    ]


def _feed_token(client, url) -> str:
    response = client.post(url)
    found = re.search(r'value="http://testserver/calendar/([A-Za-z0-9_-]+)\.ics"', response.text)
    assert found, response.status_code
    return found.group(1)


@pytest.mark.parametrize("owner", ["patient", "staff"])
def test_feeds_read_the_same_in_vobject_and_node_ical(world, client_as, booked, owner):
    if owner == "patient":
        url = reverse("calendar-feed-create-patient", kwargs={"patient_id": world.nora.pk})
        token = _feed_token(client_as("alice"), url)
    else:
        token = _feed_token(client_as("pat"), reverse("calendar-feed-create-staff"))
    raw = client_as("anonymous").get(f"/calendar/{token}.ics").content
    events = _agree(raw, 2)
    assert [e["start"] for e in events] == [_utc(a.start) for a in booked]
    assert "Prefers mornings" not in raw.decode()  # a front-desk note stays inside


def test_the_booking_confirmation_ics_reads_the_same(world, booked):
    confirmation = Reminder.objects.filter(key__startswith="confirm").first()
    assert confirmation is not None
    message = render(confirmation)
    (name, raw, kind), *_ = message.attachments
    assert (name, kind) == ("appointment.ics", "text/calendar")
    events = _agree(raw, 1)
    assert events[0]["start"] == _utc(booked[0].start)


def test_a_feed_answers_304_until_its_events_change(world, client_as, booked):
    url = reverse("calendar-feed-create-patient", kwargs={"patient_id": world.nora.pk})
    path = f"/calendar/{_feed_token(client_as('alice'), url)}.ics"
    app = client_as("anonymous")
    first = app.get(path)
    assert first.status_code == 200
    etag, modified = first["ETag"], first["Last-Modified"]
    assert "no-store" not in first["Cache-Control"]
    again = app.get(path)
    assert (again.content, again["ETag"]) == (first.content, etag)  # same bytes, same tag
    assert app.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert app.get(path, headers={"If-Modified-Since": modified}).status_code == 304

    factories.appointment(world.pat, world.nora, booked[0].start + timedelta(hours=3))
    changed = app.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert len(_ours(changed.content)) == 3
