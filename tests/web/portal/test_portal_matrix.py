"""Every portal page, every persona: staff of any clinic and anyone not signed in are sent to the
portal's sign-in page; a signed-in patient sees only their own records (another patient's record
is a 404). Public portal pages (signing in, booking a first consultation) are open to everyone.

Personas: the staff ones of tests/web/test_authorisation_matrix.py, plus nora (Northgate's patient,
signed in) and rhys (Riverside's patient, signed in). Records in URLs are Nora's.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from tests import factories

STAFF = ("anonymous", "nobody", "fran", "pat", "alice", "oscar")
PERSONAS = (*STAFF, "nora", "rhys")
EVERYONE = set(PERSONAS)
PATIENTS = {"nora", "rhys"}
OWN = {"nora"}

# name -> (method, record kind or None, personas allowed)
PORTAL_MATRIX: dict[str, tuple[str, str | None, set[str]]] = {
    "portal-sign-in": ("GET", None, EVERYONE),
    "portal-link-sent": ("GET", None, EVERYONE),
    "portal-sign-in-link": ("GET", "token", EVERYONE),
    "portal-sign-out": ("POST", None, EVERYONE),
    "portal-home": ("GET", None, PATIENTS),
    "portal-book": ("GET", "listed", EVERYONE),
    "portal-book-location": ("GET", "location", EVERYONE),
    "portal-booked": ("GET", None, PATIENTS),
    "portal-aftercare-list": ("GET", None, PATIENTS),
    "portal-aftercare": ("GET", "session", OWN),
    "portal-check-in": ("GET", "session", OWN),
    "portal-health-questions": ("GET", None, PATIENTS),
    "portal-forecast": ("GET", None, PATIENTS),
    "portal-plan": ("GET", None, PATIENTS),
    "portal-series": ("GET", None, {"nora"}),  # rhys has no plan: 404
    "portal-cancel": ("POST", "appointment", OWN),
    "portal-move": ("GET", "appointment", OWN),
    "portal-calendar": ("GET", None, PATIENTS),
    "portal-data": ("GET", None, PATIENTS),
    "portal-data-download": ("GET", None, PATIENTS),
    "portal-erasure": ("POST", None, PATIENTS),
    "portal-forecast-chart": ("GET", None, {"nora"}),  # rhys has no forecast: 404
    "portal-consent": ("GET", "consent_kind", PATIENTS),
}


# Pages of the patient's own data that rhys (with no plan) does not have: not found.
NO_RECORD_404 = {"portal-forecast-chart", "portal-series"}


@pytest.fixture
def records(world, settings, tmp_path):
    from tests.web.portal.portal_kit import treated_yesterday

    settings.PHOTO_ROOT = tmp_path / "photos"
    session = treated_yesterday(world)
    factories.working_hours(world.pat)
    appointment = factories.appointment(
        world.pat, world.nora, factories.next_weekday_at(10, days_ahead=9)
    )
    return {
        "token": "not-a-real-token",
        "listed": world.pat,
        "location": world.northgate.locations.get(),
        "session": session,
        "appointment": appointment,
    }


# Pages whose POST is checked as well as their GET: name -> (record kind, personas allowed)
PORTAL_POSTS: dict[str, tuple[str, set[str]]] = {
    "portal-move": ("appointment", OWN),
}
ROWS = {
    **{
        (name, method): (record, allowed)
        for name, (method, record, allowed) in PORTAL_MATRIX.items()
    },
    **{(name, "POST"): row for name, row in PORTAL_POSTS.items()},
}


def _url(name: str, record: str | None, records: dict) -> str:
    if record is None:
        return reverse(name)
    if record == "token":
        return reverse(name, args=[records["token"]])
    if record == "consent_kind":
        return reverse(name, args=["photos"])
    return reverse(name, args=[records[record].pk])


def _outcome(response) -> str:
    if response.status_code >= 500:
        return f"error {response.status_code}"
    location = response.get("Location", "") if response.status_code in (302, 303) else ""
    if location == reverse("portal-sign-in"):
        return "portal-sign-in"
    if response.status_code in (401, 403, 404, 405):
        return str(response.status_code)
    return "allowed"


@pytest.mark.parametrize(("name", "method"), sorted(ROWS))
def test_who_may_use_each_portal_page(name, method, records, client_as):
    record, allowed = ROWS[name, method]
    url = _url(name, record, records)
    seen = {}
    for persona in PERSONAS:
        client = client_as(persona)
        with transaction.atomic():
            response = client.post(url) if method == "POST" else client.get(url)
            transaction.set_rollback(True)
        seen[persona] = _outcome(response)
    if name == "portal-sign-out":  # signing out sends everyone to the sign-in page
        assert set(seen.values()) == {"portal-sign-in"}, seen
        return
    assert {p for p, o in seen.items() if o == "allowed"} == allowed, seen
    for persona, outcome in seen.items():
        if persona in allowed:
            continue
        if persona == "rhys" and (record not in (None, "consent_kind") or name in NO_RECORD_404):
            assert outcome == "404", (persona, seen)
        else:
            assert outcome == "portal-sign-in", (persona, seen)
