"""A patient's recall page, as it opens, is kept by the clinic's recall version: drawn once, and
drawn again when what it shows changes (a contact logged, the patient's name or phone changed),
in each time zone it is written in. Transactional: nothing is kept inside a transaction."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.patients import services as patient_services
from dermis.web.clinic.scheduling import recall_desk, versions
from dermis.web.clinic.scheduling.views import recall_patient
from tests.web import test_recall_worklist

due = test_recall_worklist.due  # the fixture: Fiona, Bea and Cal due

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draws(monkeypatch):
    """How many times the page's body was drawn."""
    drawn = []
    real = recall_patient._body

    def counted(context, csrf_token):
        drawn.append(context["patient"].pk)
        return real(context, csrf_token)

    monkeypatch.setattr(recall_patient, "_body", counted)
    return drawn


def _forget_kept() -> None:
    cache.clear()
    versions._HERE.clear()
    versions._LIVE.clear()


def _body(page) -> str:
    html = page.content.decode()
    return html[html.index('<main id="main"') : html.index("</main>")]


def _without_tokens(page) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", _body(page))


def test_the_page_is_drawn_once_and_is_what_drawing_it_anew_gives(world, due, client_as, draws):
    fiona, _ = due["fiona"]
    client = client_as("fran")
    url = reverse("recall-patient", kwargs={"patient_id": fiona.pk})
    _forget_kept()
    first = client.get(url)
    again = client.get(url)
    assert first.status_code == again.status_code == 200
    assert draws == [fiona.pk]  # the second view drew nothing
    # Each request's own CSRF token in the form, never the mark the body is kept with.
    assert versions.CSRF_MARK not in again.content.decode()
    assert re.search(r'name="csrfmiddlewaretoken" value="\w{64}"', _body(again))
    _forget_kept()
    fresh = client.get(url)
    assert draws == [fiona.pk, fiona.pk]
    assert _without_tokens(again) == _without_tokens(fresh)
    assert "How to reach them" in _body(again) and fiona.phone in _body(again)


def test_a_contact_logged_or_a_new_phone_is_shown_at_once(world, due, client_as, draws):
    fiona, _ = due["fiona"]
    client = client_as("fran")
    url = reverse("recall-patient", kwargs={"patient_id": fiona.pk})
    _forget_kept()
    assert "voicemail, will ring back" not in client.get(url).content.decode()
    recall_desk.log_contact(
        Actor.of_staff(world.fran), fiona, outcome="left_message", note="voicemail, will ring back"
    )
    assert "voicemail, will ring back" in _body(client.get(url))
    patient_services.update_patient(Actor.of_staff(world.fran), fiona, phone="+44 7700 900999")
    page = _body(client.get(url))
    assert "+44 7700 900999" in page
    assert len(draws) == 3  # drawn for each change, and only then
    client.get(url)
    assert len(draws) == 3


def test_each_time_zone_has_its_own_page(world, due, client_as, draws):
    fiona, _ = due["fiona"]
    recall_desk.log_contact(Actor.of_staff(world.fran), fiona, outcome="no_answer")
    client = client_as("fran")
    url = reverse("recall-patient", kwargs={"patient_id": fiona.pk})
    _forget_kept()
    with timezone.override("Europe/London"):
        london = _body(client.get(url))
    with timezone.override("Asia/Tokyo"):
        tokyo = _body(client.get(url))
    assert len(draws) == 2
    at = fiona.recall_contacts.get().at
    for zone, page in (("Europe/London", london), ("Asia/Tokyo", tokyo)):
        assert f"{timezone.localtime(at, ZoneInfo(zone)):%H:%M}" in page
    assert london != tokyo
