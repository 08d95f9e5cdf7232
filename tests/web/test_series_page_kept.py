"""The series proposal page's content is kept by each worker by everything it was drawn from (the
numbers the database keeps of the patient's rows, the clinic's and its schedule; the plan, the
patient and the clinic, what was asked, who asks, the day, the zone and language:
`scheduling.views.series._page_key`) until its search would change (the next point of the slot
grid) or the day ends. Kept only outside a transaction: transactional tests."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from dermis.core import slots
from dermis.web.clinic import clock
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import WorkingHours
from dermis.web.clinic.patients import services as patient_services
from dermis.web.clinic.scheduling import availability, series
from dermis.web.clinic.scheduling.views import series as views
from tests import factories
from tests.web.test_series_booking import _post_data, _prefs, _url, bookable_plan

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture
def worked_out(monkeypatch):
    """Each setup worked out (each time the page was not kept): its moment and what it gave."""
    done = []
    real = series.setup

    def counted(plan, prefs, now):
        done.append((now, real(plan, prefs, now)))
        return done[-1][1]

    monkeypatch.setattr(series, "setup", counted)
    views.PAGES.clear()
    yield done
    views.PAGES.clear()


def _body(client, plan, data) -> str:
    page = client.get(_url(plan), data)
    assert page.status_code == 200
    html = TOKEN.sub('name="csrfmiddlewaretoken" value=""', page.content.decode())
    return html[html.index('<main id="main"') : html.index("</main>")]


@pytest.mark.parametrize("persona", ["pat", "fran"])
def test_the_page_is_worked_out_once_and_is_what_working_it_out_anew_gives(
    world, client_as, worked_out, persona
):
    plan, client = bookable_plan(world), client_as(persona)
    first = _body(client, plan, _prefs(world))
    again = _body(client, plan, _prefs(world))
    assert len(worked_out) == 1 and again == first
    assert 'name="start"' in first  # it proposes a series to book
    views.PAGES.clear()
    assert _body(client, plan, _prefs(world)) == first and len(worked_out) == 2
    # Asked something else: worked out for that, and both are kept.
    other = _body(client, plan, _prefs(world, weekdays=["0"]))
    assert other != first and len(worked_out) == 3
    assert _body(client, plan, _prefs(world)) == first and len(worked_out) == 3


def test_what_the_page_shows_changing_works_it_out_again(world, client_as, worked_out):
    plan, client = bookable_plan(world), client_as("pat")
    before = _body(client, plan, _prefs(world))
    # The patient's name (the plan's patient row).
    patient_services.update_patient(Actor.of_staff(world.fran), world.nora, given_name="Norah")
    renamed = _body(client, plan, _prefs(world))
    assert "Norah" in renamed and "Norah" not in before and len(worked_out) == 2
    # The safety gate's view of the record: a screening that defers microneedling for months.
    factories.deferred_by_isotretinoin(world.pat, world.nora)
    deferred = _body(client, plan, _prefs(world))
    assert len(worked_out) == 3 and deferred != renamed
    assert "The first session can be from" in deferred
    # The practitioner's hours (afternoons only: the preferred mornings are not required).
    WorkingHours.objects.filter(staff=world.pat).update(start=time(13))
    assert _body(client, plan, _prefs(world)) != deferred and len(worked_out) == 4
    # Someone else asking: the same rows, another page (a practitioner sees the plan's courses).
    _body(client_as("fran"), plan, _prefs(world))
    assert len(worked_out) == 5
    _body(client, plan, _prefs(world))
    assert len(worked_out) == 5


def test_a_kept_page_is_worked_out_again_when_the_time_alone_changes_it(
    world, client_as, worked_out
):
    """The page's moments come from the services' clock (`clock.frozen_at` here): kept until its
    search would give something else (the next point of the slot grid) or the day ends."""
    plan, client = bookable_plan(world), client_as("pat")
    now = timezone.now()
    with clock.frozen_at(now):
        before = _body(client, plan, _prefs(world))
    [(_, setup)] = worked_out
    grid = slots.same_search_until(
        availability.clinic_zone(), now, setup.request.granularity_minutes
    )
    midnight = datetime.combine(
        timezone.localdate(now) + timedelta(days=1),
        time.min,
        tzinfo=timezone.get_current_timezone(),
    )
    until = min(grid, midnight)
    assert now < until and [kept[0] for kept in views.PAGES.values()] == [until]
    with clock.frozen_at(until - timedelta(microseconds=1)):
        assert _body(client, plan, _prefs(world)) == before and len(worked_out) == 1
    with clock.frozen_at(until):
        _body(client, plan, _prefs(world))
    assert len(worked_out) == 2 and worked_out[-1][0] == until


def test_a_page_inside_a_transaction_or_a_booking_is_never_kept(world, client_as, worked_out):
    plan, client = bookable_plan(world), client_as("pat")
    # There its rows may be uncommitted, and a number rolled back is given again.
    with transaction.atomic():
        _body(client, plan, _prefs(world))
        _body(client, plan, _prefs(world))
    assert len(worked_out) == 2 and not views.PAGES
    page = client.get(_url(plan), _prefs(world))
    assert len(worked_out) == 3 and len(views.PAGES) == 1
    # A booking: worked out for itself, never kept.
    proposal = page.context["result"].proposal
    assert client.post(_url(plan), _post_data(world, proposal)).status_code == 302
    assert len(worked_out) == 4 and len(views.PAGES) == 1
