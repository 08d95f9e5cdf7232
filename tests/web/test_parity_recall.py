"""Parity for working the recall list: logging a contact and booking a chosen slot give the same
answer on the page and over the API (see tests/web/test_parity.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.web import test_recall_worklist
from tests.web.test_parity import _api, _both, _web

due = test_recall_worklist.due  # the fixture: Fiona, Bea and Cal due

TODAY = timezone.localdate()

CONTACT_CASES = {
    "called": ({"outcome": "called", "note": "rang back"}, None),
    "snooze": ({"outcome": "snooze", "snooze_until": str(TODAY + timedelta(days=9))}, None),
    "snooze without a day": ({"outcome": "snooze"}, "snooze_until"),
    "snooze until today": ({"outcome": "snooze", "snooze_until": str(TODAY)}, "snooze_until"),
    "a day without a snooze": (
        {"outcome": "declined", "snooze_until": str(TODAY + timedelta(days=3))},
        "snooze_until",
    ),
    "a long note": ({"outcome": "called", "note": "x" * 301}, "note"),
}


@pytest.mark.parametrize("case", sorted(CONTACT_CASES))
def test_logging_a_contact(case, world, due, client_as, api_as):
    body, refused = CONTACT_CASES[case]
    fiona, _ = due["fiona"]
    web, api = _both(
        lambda: _web(
            client_as("fran").post(reverse("recall-contact", args=[fiona.pk]), body),
            "contact_form",
        ),
        lambda: _api(api_as("fran").post(f"/api/v1/recall/{fiona.pk}/contacts", body)),
    )
    if refused == "note":  # the page's field stops it first, with Django's words
        assert (web.ok, web.field, api.ok, api.field) == (False, "note", False, "note")
        return
    assert web == api, (web, api)
    assert web.ok is (refused is None)
    if refused:
        assert web.field == refused


def _slot(client_as, patient) -> dict:
    page = client_as("fran").get(
        reverse("recall-patient", args=[patient.pk]), {"propose": "maintenance"}
    )
    return page.context["slots"][0]


BOOKING_CASES = ["the first slot offered", "before the due day", "a room not offered"]


@pytest.mark.parametrize("case", BOOKING_CASES)
def test_booking_a_chosen_slot(case, world, due, client_as, api_as):
    fiona, fiona_due = due["fiona"]
    slot = _slot(client_as, fiona)
    start, room, equipment = slot["value"], slot["room"], slot["equipment"]
    if case == "before the due day":
        start = timezone.make_aware(
            datetime.combine(fiona_due - timedelta(days=2), time(10))
        ).isoformat()
    if case == "a room not offered":
        room = 999999
    page = {"what": "maintenance", "start": start}
    page.update({k: v for k, v in (("room", room), ("equipment", equipment)) if v})
    body = {"start": start, "room_id": room, "equipment_id": equipment}
    web, api = _both(
        lambda: _web(
            client_as("fran").post(reverse("recall-book", args=[fiona.pk]), page), "book_form"
        ),
        lambda: _api(api_as("fran").post(f"/api/v1/recall/{fiona.pk}/bookings", body)),
    )
    assert web == api, (web, api)
    assert web.ok is (case == "the first slot offered")
