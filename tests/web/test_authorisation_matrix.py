"""Every page, every persona: who may use it is exactly the set written here.

Personas (tests/web/personas.py): alice (Northgate admin), pat (Northgate practitioner), fran
(Northgate front desk), oscar (Riverside practitioner: the other clinic), nobody (a user with no
clinic) and anonymous. Every record in a URL belongs to Northgate's patient Nora.

Outcomes: allowed -> not a refusal and not a server error; anonymous refused -> redirect to the
login page; nobody and a same-clinic role without access -> 403; the other clinic -> 404 (a
guessed id does not confirm that the record exists).

A new URL without a row here fails `test_every_page_is_in_the_matrix`.
"""

from __future__ import annotations

import hashlib
import secrets

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ANY_STAFF = {"alice", "pat", "fran", "oscar"}
CLINIC_STAFF = {"alice", "pat", "fran"}
CLINICAL = {"alice", "pat"}
EVERYONE = {"anonymous", "nobody", "alice", "pat", "fran", "oscar", "nora"}
# nora: Northgate's patient signed in to the portal (not a staff user: every staff page refuses
# her as it refuses anyone not logged in). Portal pages have their own matrix below.
PERSONAS = ("anonymous", "nobody", "fran", "pat", "alice", "oscar", "nora")
# signed-in staff users (nora is a patient, not a staff user)
LOGGED_IN = EVERYONE - {"anonymous", "nora"}

# name -> (method, which Northgate record fills the URL ("keyword=record" when the keyword is not
# the record's usual one), personas allowed)
MATRIX: dict[str, tuple[str, str | None, set[str]]] = {
    # public
    "healthz": ("GET", None, EVERYONE),
    "login": ("GET", None, EVERYONE),
    "logout": ("POST", None, EVERYONE),
    "directory": ("GET", None, EVERYONE),
    "directory-practitioner": ("GET", "listed", EVERYONE),
    "directory-location": ("GET", "location", EVERYONE),
    "calendar-feed": ("GET", "token", EVERYONE),
    "password-reset": ("GET", None, EVERYONE),
    "password-reset-done": ("GET", None, EVERYONE),
    "password-reset-confirm": ("GET", "reset", EVERYONE),
    "password-reset-complete": ("GET", None, EVERYONE),
    # anyone logged in: their own account
    "password-change": ("GET", None, LOGGED_IN),
    "password-change-done": ("GET", None, LOGGED_IN),
    "two-factor-verify": ("GET", None, LOGGED_IN),
    "two-factor-setup": ("GET", None, LOGGED_IN),
    # a patient's signed links (the signature is the permission)
    "waitlist-offer": ("GET", "offer_token", EVERYONE),
    "appointment-reply": ("GET", "reply_token", EVERYONE),
    # any member of staff, own clinic
    "dashboard": ("GET", None, ANY_STAFF),
    "patient-list": ("GET", None, ANY_STAFF),
    "patient-create": ("GET", None, ANY_STAFF),
    "calendar-feed-list": ("GET", None, ANY_STAFF),
    "patient-detail": ("GET", "patient", CLINIC_STAFF),
    "patient-edit": ("GET", "patient", CLINIC_STAFF),
    "patient-merge": ("GET", "patient", {"alice"}),
    "appointment-create": ("GET", "patient", CLINIC_STAFF),
    "calendar-feed-create-patient": ("GET", "patient", CLINIC_STAFF),
    # clinical roles
    "calendar-feed-create-staff": ("POST", None, {"alice", "pat", "oscar"}),
    "calendar-feed-revoke": ("POST", "feed", CLINICAL),
    "consultation-create": ("GET", "patient", CLINICAL),
    "session-create": ("GET", "patient", CLINICAL),
    "photo-list": ("GET", "patient", CLINICAL),
    "photo-upload": ("GET", "patient", CLINICAL),
    "photo-compare": ("GET", "patient", CLINICAL),
    "grade-create": ("GET", "patient", CLINICAL),
    "patient-forecast": ("GET", "patient", CLINICAL),
    "consultation-detail": ("GET", "consultation", CLINICAL),
    "consultation-accept": ("POST", "consultation", CLINICAL),
    "consultation-facts": ("POST", "consultation", CLINICAL),
    "plan-detail": ("GET", "plan", CLINICAL),
    "plan-revise": ("GET", "plan", CLINICAL),
    "plan-pdf": ("GET", "plan", CLINICAL),
    "consent-detail": ("GET", "consent", CLINICAL),
    "consent-signature": ("GET", "consent", CLINICAL),
    "consent-pdf": ("GET", "consent", CLINICAL),
    "session-detail": ("GET", "session", CLINICAL),
    "session-edit": ("GET", "draft_session", CLINICAL),
    "session-finalise": ("POST", "draft_session", CLINICAL),
    "session-addendum": ("POST", "session", CLINICAL),
    "session-recheck": ("POST", "draft_session", CLINICAL),
    "patient-recheck": ("POST", "patient", CLINICAL),
    "aftercare-detail": ("GET", "session", CLINICAL),
    "aftercare-pdf": ("GET", "session", CLINICAL),
    "photo-file": ("GET", "photo", CLINICAL),
    "check-in-acknowledge": ("POST", "check_in", CLINICAL),
    "portal-answers": ("GET", "patient", CLINICAL),
    "portal-answers-reviewed": ("POST", "portal_intake", CLINICAL),
    # scheduling: front desk books and works the recall list (clinical detail: clinical roles)
    "availability": ("GET", None, ANY_STAFF),
    "availability-hours": ("POST", "staff_id=listed", {"alice"}),
    "availability-timeoff": ("POST", "staff_id=listed", {"alice", "pat"}),
    "availability-rooms": ("POST", None, {"alice"}),
    "availability-equipment": ("POST", None, {"alice"}),
    "series-propose": ("GET", "plan_id=plan", CLINIC_STAFF),
    "appointment-reschedule": ("GET", "appointment", CLINIC_STAFF),
    "appointment-cancel": ("POST", "appointment", CLINIC_STAFF),
    # the diary: every member of staff sees their own clinic's; closures are the admin's
    "diary": ("GET", None, ANY_STAFF),
    "diary-book": ("GET", None, ANY_STAFF),
    "appointment-detail": ("GET", "appointment", CLINIC_STAFF),
    "appointment-status": ("POST", "appointment", CLINIC_STAFF),
    "closures": ("GET", None, {"alice"}),
    "recall-worklist": ("GET", None, ANY_STAFF),
    "recall-book": ("POST", "patient", CLINIC_STAFF),
    "recall-patient": ("GET", "patient", CLINIC_STAFF),
    "recall-contact": ("POST", "patient", CLINIC_STAFF),
    # the clinic's own evidence (its whole clinic, no record in the URL): clinical roles read it,
    # the admin refits, reverts and chooses the parameter set
    "calibration-report": ("GET", None, {"alice", "pat", "oscar"}),
    "calibration-chart": ("GET", None, {"alice", "pat", "oscar"}),
    "parameter-set-refit": ("POST", None, {"alice"}),
    "parameter-set-revert": ("POST", None, {"alice"}),
    "parameter-set-activate": ("POST", None, {"alice"}),
    # the waitlist: any member of staff; reminder delivery: the admin and the front desk
    "waitlist": ("GET", None, ANY_STAFF),
    "waitlist-add": ("GET", "patient", CLINIC_STAFF),
    "waitlist-remove": ("POST", "entry", CLINIC_STAFF),
    "reminder-delivery": ("GET", None, {"alice", "fran"}),
    "reminder-send-again": ("POST", "reminder", {"alice", "fran"}),
    # the clinic admin
    "audit-log": ("GET", None, {"alice"}),
    "portal-settings": ("GET", None, {"alice"}),
}

# URL keyword -> which record's id it takes, for each kind of record in MATRIX.
KWARG = {"patient": "patient_id", "entry": "entry_id", "reminder": "reminder_id"}
TOKENS = ("token", "offer_token", "reply_token")


def _web_names() -> set[str]:
    """Every named route of the web app (the REST API and Django's admin have their own tests)."""

    def walk(patterns, prefix: str = ""):
        for p in patterns:
            if isinstance(p, URLResolver):
                route = prefix + str(p.pattern)
                if route.startswith(("admin/", "api/")):
                    continue
                yield from walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and p.name:
                yield p.name

    return set(walk(get_resolver().url_patterns))


def test_every_page_is_in_the_matrix(db):
    from tests.web.portal.test_portal_matrix import PORTAL_MATRIX

    known = MATRIX.keys() | PORTAL_MATRIX.keys()
    missing = _web_names() - known
    stale = known - _web_names()
    assert not missing, f"add these pages to MATRIX: {sorted(missing)}"
    assert not stale, f"these MATRIX rows name no page: {sorted(stale)}"


@pytest.fixture
def records(world, settings, tmp_path):
    from dermis.web.clinic.models import CalendarFeed, CheckIn, PortalIntake
    from tests.web.full_world import journey

    settings.PHOTO_ROOT = tmp_path / "photos"
    northgate = journey(world.nora, world.pat)
    journey(world.rhys, world.oscar)
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.create(
        token_sha256=hashlib.sha256(token.encode()).hexdigest(), patient=world.nora
    )
    check_in = CheckIn.objects.create(
        patient=world.nora,
        session=northgate["session"],
        day=1,
        looks="worse",
        feels="very_sore",
        warnings=["infection"],
    )
    portal_intake = PortalIntake.objects.create(
        patient=world.nora, answers={}, screening={"as_of": "2026-11-23", "findings": []}
    )
    return {
        **northgate,
        "portal_intake": portal_intake,
        "patient": world.nora,
        "listed": world.pat,
        "location": world.northgate.locations.get(),
        "token": token,
        "check_in": check_in,
        **_messaging_records(world, northgate["appointment"]),
    }


def _messaging_records(world, appointment) -> dict:
    """A failed reminder, a waitlist entry with an open offer, and the two signed links."""
    from datetime import timedelta

    from django.utils import timezone

    from dermis.web.clinic.models import Reminder, WaitlistOffer
    from dermis.web.clinic.waitlist import links
    from dermis.web.clinic.waitlist import services as waitlist
    from tests import factories

    now = timezone.now()
    reminder = Reminder.objects.create(
        key="matrix", patient=world.nora, kind="recall", due_at=now, status="failed"
    )
    entry = waitlist.add_entry(factories.actor(world.fran), world.nora)
    offer = WaitlistOffer.objects.create(
        entry=entry,
        slot="matrix",
        practitioner=world.pat,
        start=now + timedelta(days=2),
        end=now + timedelta(days=2, hours=1),
        expires_at=now + timedelta(hours=6),
    )
    return {
        "reminder": reminder,
        "entry": entry,
        "offer_token": links.offer_token(offer),
        "reply_token": links.confirm_token(appointment),
    }


def _url(name: str, record: str | None, records: dict) -> str:
    if record is None:
        return reverse(name)
    if record in TOKENS:
        return reverse(name, kwargs={"token": records[record]})
    if record == "reset":  # a reset link that does not work: the page says so
        return reverse(name, kwargs={"uidb64": "MQ", "token": "not-a-token"})
    keyword, _, record = record.rpartition("=")
    return reverse(name, kwargs={keyword or KWARG.get(record, "pk"): records[record].pk})


def _outcome(response, name: str) -> str:
    if response.status_code >= 500:
        return f"error {response.status_code}"
    if name == "logout" and response.status_code == 302:
        return "allowed"  # logging out sends everyone to the login page
    if response.status_code in (302, 303) and "/accounts/login/" in response.get("Location", ""):
        return "login"
    if response.status_code in (401, 403, 404, 405):
        return str(response.status_code)
    return "allowed"


def _request(client, method: str, url: str):
    # Each request in a rolled-back savepoint: a POST by one persona leaves nothing for the next.
    with transaction.atomic():
        response = client.post(url) if method == "POST" else client.get(url)
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_who_may_use_each_page(name, records, client_as):
    method, record, allowed = MATRIX[name]
    url = _url(name, record, records)
    seen = {}
    for persona in PERSONAS:
        seen[persona] = _outcome(_request(client_as(persona), method, url), name)
    assert {p for p, o in seen.items() if o == "allowed"} == allowed, seen
    for persona, outcome in seen.items():
        if persona in allowed:
            continue
        if persona in ("anonymous", "nora"):
            assert outcome == "login", (persona, seen)
        elif persona == "oscar" and record is not None:
            assert outcome == "404", (persona, seen)
        else:
            assert outcome == "403", (persona, seen)
