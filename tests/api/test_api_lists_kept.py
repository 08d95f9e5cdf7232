"""The API's patient and appointment lists are kept by each worker by what they show
(`api/kept.py`: every column of each row listed, how many matched, the page, the role's view of
the rows, the time zone). A kept body is the body django-ninja writes for the same request, byte
for byte; whatever the list shows changing, it is written anew; an error is never kept."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from dermis.web.api import kept
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Appointment
from dermis.web.clinic.patients import services
from tests.factories import patient as new_patient

PATIENTS, APPOINTMENTS = "/api/v1/patients", "/api/v1/appointments"


@pytest.fixture
def written(monkeypatch):
    """The bodies ninja wrote (a kept body is not written again)."""
    bodies = []
    real = kept.KeepingRenderer.render

    def counted(self, request, data, *, response_status):
        body = real(self, request, data, response_status=response_status)
        bodies.append(body)
        return body

    monkeypatch.setattr(kept.KeepingRenderer, "render", counted)
    kept.PAGES.clear()
    yield bodies
    kept.PAGES.clear()


def _get(client, path: str, **query):
    response = client.get(path, **query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.content


QUERIES = [{}, {"q": "Quinn"}, {"limit": 1}, {"limit": 1, "offset": 1}, {"q": "nobody-matches"}]


@pytest.mark.parametrize("persona", ["pat", "fran"])
def test_a_kept_list_is_the_list_ninja_writes(world, api_as, written, persona):
    new_patient(world.pat, "Zed", "Zimmer")
    client = api_as(persona)
    for query in QUERIES:
        kept.PAGES.clear()
        fresh = _get(client, PATIENTS, **query)
        assert len(written) and written[-1].encode() == fresh
        count = len(written)
        assert _get(client, PATIENTS, **query) == fresh  # kept: not written again
        assert len(written) == count


def test_front_desk_never_gets_the_phototype_kept_for_a_clinician(world, api_as, written):
    services.update_patient(Actor.of_staff(world.pat), world.nora, fitzpatrick="IV")
    clinical = _get(api_as("pat"), PATIENTS)
    desk = _get(api_as("fran"), PATIENTS)
    assert b'"fitzpatrick": "IV"' in clinical
    assert b'"fitzpatrick": "IV"' not in desk and b'"fitzpatrick": null' in desk
    assert len(written) == 2


def test_what_the_list_shows_changing_writes_it_again(world, api_as, written):
    client = api_as("fran")
    before = _get(client, PATIENTS, limit=1)
    services.update_patient(Actor.of_staff(world.pat), world.nora, phone="07700 900777")
    changed = _get(client, PATIENTS, limit=1)
    assert b"07700 900777" in changed and b"07700 900777" not in before
    new_patient(world.pat, "Zed", "Zimmer")  # after Nora: beyond a page of one, only counted
    counted = _get(client, PATIENTS, limit=1)
    assert counted != changed and b'"count": 2' in counted
    assert len(written) == 3


def test_an_error_is_never_kept(world, api_as, written):
    client = api_as("fran")
    for _ in range(2):
        assert client.get(PATIENTS, limit=0).status_code == 422
    assert kept.PAGES == {}
    # Nor an answer other than a 200 to a request that was to be kept.
    request = RequestFactory().get(PATIENTS)
    setattr(request, kept.KEY, "the key")
    kept.KeepingRenderer().render(request, {"title": "refused"}, response_status=403)
    assert kept.PAGES == {}
    kept.KeepingRenderer().render(request, {"count": 0}, response_status=200)
    assert kept.PAGES == {"the key": '{"count": 0}'}


def _appointment(world, days: int) -> Appointment:
    start = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    start += timedelta(days=days, hours=10)
    return Appointment.objects.create(
        clinic=world.northgate, patient=world.nora, practitioner=world.pat,
        start=start, end=start + timedelta(hours=1),
    )  # fmt: skip


def test_appointments_are_kept_by_their_rows_and_written_in_the_zone_in_force(
    world, api_as, written
):
    _appointment(world, 3)
    client = api_as("fran")
    london = _get(client, APPOINTMENTS)
    assert _get(client, APPOINTMENTS) == london and len(written) == 1
    with timezone.override("Asia/Tokyo"):
        tokyo = _get(client, APPOINTMENTS)
    assert b"+09:00" in tokyo and b"+09:00" not in london
    moved = Appointment.objects.get()
    hour = timedelta(hours=1)
    Appointment.objects.filter(pk=moved.pk).update(start=moved.start + hour, end=moved.end + hour)
    later = _get(client, APPOINTMENTS)
    assert later not in (london, tokyo)
    assert len(written) == 3
    kept.PAGES.clear()
    assert _get(client, APPOINTMENTS) == later  # the kept body is the one written anew
