"""A series proposal is kept by the clinic's schedule version and what the search is asked
(`series.propose`): asked again, the search is not run again and the answer is the same; a change
to the schedule, to the request (the preferences, the first safe day) or the passing of the grid
point the search starts from gives a new search. Transactions of their own, as a server's
requests are: inside one nothing is kept."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from dermis.core import slots
from dermis.web.clinic.scheduling import series
from tests import factories
from tests.web.test_series_booking import _post_data, _prefs, _url, bookable_plan

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_worker_copy(monkeypatch):
    """What is tested here is the layer beneath each worker's copy of a page (`PAGES`, kept by
    the page's reads: test_series_page_kept.py), which would answer before it."""
    from dermis.web.clinic.scheduling.views import series as view

    monkeypatch.setattr(view, "_page_key", lambda *args: "")


@pytest.fixture
def plan(world):
    return bookable_plan(world)


@pytest.fixture
def searches(monkeypatch) -> list:
    """The requests the slot finder is asked, in order."""
    asked = []
    real = slots.find_series

    def counting(calendar, request, *args, **kwargs):
        asked.append(request)
        return real(calendar, request, *args, **kwargs)

    monkeypatch.setattr(slots, "find_series", counting)
    return asked


def _shown(response) -> list:
    assert response.status_code == 200
    result = response.context["result"]
    return [[s.slot.start for s in p.sessions] for p in (result.proposal, *result.alternatives)]


def _clear_of_a_grid_point(plan, world) -> None:
    """Wait out the last seconds before the slot grid's next point, if that is where we are: a
    page asked again across it is rightly searched again."""
    now = timezone.now()
    prefs = series.Preferences(world.pat, world.northgate.locations.get())
    every = series.setup(plan, prefs, now).request.granularity_minutes
    left = slots.same_search_until(timezone.get_current_timezone(), now, every) - now
    if left < timedelta(seconds=30):  # the requests below take a few seconds on a busy machine
        time.sleep(left.total_seconds() + 1)


def test_a_proposal_asked_again_is_the_kept_one_and_each_change_is_searched_again(
    world, plan, client_as, searches
):
    _clear_of_a_grid_point(plan, world)
    searches.clear()
    desk = client_as("fran")
    first = _shown(desk.get(_url(plan), _prefs(world)))
    assert len(searches) == 1 and first
    assert _shown(desk.get(_url(plan), _prefs(world))) == first
    assert _shown(client_as("pat").get(_url(plan), _prefs(world))) == first  # anyone's
    assert len(searches) == 1
    # Other preferences are another search, kept in turn.
    thursdays = _shown(desk.get(_url(plan), _prefs(world, weekdays=["3"])))
    assert len(searches) == 2
    assert all(s.weekday() == 3 for s in thursdays[0])
    assert _shown(desk.get(_url(plan), _prefs(world, weekdays=["3"]))) == thursdays
    assert len(searches) == 2
    # A booking anywhere in the clinic moves its schedule version: the proposal's first slot,
    # now taken, is not proposed again.
    taken = first[0][0]
    factories.appointment(world.pat, factories.patient(world.pat, "Ann", "Other"), taken)
    after = _shown(desk.get(_url(plan), _prefs(world)))
    assert len(searches) == 3
    assert taken not in [start for p in after for start in p]


def test_a_later_first_safe_day_is_a_new_search(world, plan, client_as, searches):
    client = client_as("pat")
    before = _shown(client.get(_url(plan), _prefs(world)))
    # Isotretinoin two months ago defers microneedling: nothing of the schedule changed, but
    # the request's first day did.
    factories.deferred_by_isotretinoin(world.pat, world.nora)
    after = _shown(client.get(_url(plan), _prefs(world)))
    assert len(searches) == 2
    assert min(p[0] for p in after) > max(p[0] for p in before)


def test_the_kept_proposal_lasts_until_the_grid_point_the_search_starts_from(world, plan, searches):
    prefs = series.Preferences(world.pat, world.northgate.locations.get())
    now = timezone.now()
    setup = series.setup(plan, prefs, now)
    until = slots.same_search_until(
        timezone.get_current_timezone(), now, setup.request.granularity_minutes
    )
    assert setup.version is not None
    first = series.propose(setup)
    # Up to that moment the same search, taken from the cache (a second's margin: the search
    # cuts at whole seconds)...
    for moment in (now + (until - now) / 2, until - timedelta(seconds=1)):
        if moment >= now:
            assert series.propose(series.setup(plan, prefs, moment)) == first
    assert len(searches) == 1
    # ...from it, another search.
    series.propose(series.setup(plan, prefs, until))
    assert len(searches) == 2
    # Inside a transaction nothing is kept or taken: its rows may never be committed.
    with transaction.atomic():
        inside = series.setup(plan, prefs, now)
        assert inside.version is None
        assert series.propose(inside) == first
    assert len(searches) == 3


def _without_token(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_the_kept_page_is_the_drawn_one_with_each_requests_token(
    world, plan, client_as, monkeypatch
):
    """The page's content is kept with its search: asked again it is not drawn again, it is
    what drawing it anew gives, and its booking forms carry this request's token."""
    from django.core.cache import cache

    from dermis.web.clinic import process_memo
    from dermis.web.clinic.scheduling.views import series as view

    _clear_of_a_grid_point(plan, world)
    drawn = []
    real = view._body
    monkeypatch.setattr(view, "_body", lambda *a: drawn.append(a[1]) or real(*a))
    pat, fran = client_as("pat"), client_as("fran")
    first = pat.get(_url(plan), _prefs(world))
    again = pat.get(_url(plan), _prefs(world))
    assert drawn == [view.versions.CSRF_MARK]  # drawn once, with the mark where tokens go
    html = again.content.decode()
    assert view.versions.CSRF_MARK not in html and "csrfmiddlewaretoken" in html
    cache.clear()
    process_memo.clear_all()
    fresh = pat.get(_url(plan), _prefs(world))
    assert len(drawn) == 2
    assert _without_token(fresh.content.decode()) == _without_token(html)
    assert _without_token(first.content.decode()) == _without_token(html)
    # The front desk's page is its own (no plan link, no pre-care box): drawn for them.
    desk = fran.get(_url(plan), _prefs(world)).content.decode()
    assert len(drawn) == 3 and "Pre-care is done" in html and "Pre-care is done" not in desk
    # A booking anywhere in the clinic draws it anew, without the time now taken.
    taken = again.context["result"].proposal.sessions[0].slot.start
    factories.appointment(world.pat, factories.patient(world.pat, "Ann", "Other"), taken)
    after = pat.get(_url(plan), _prefs(world))
    assert len(drawn) == 4
    assert taken not in [s.slot.start for s in after.context["result"].proposal.sessions]
    # A booking posted from the kept page, with the token it carries, is accepted.
    pat.handler.enforce_csrf_checks = True
    kept = pat.get(_url(plan), _prefs(world))
    assert len(drawn) == 4
    booking_form = (
        r'class="book">\s*<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"'
    )
    token = re.search(booking_form, kept.content.decode())[1]
    proposal = kept.context["result"].proposal
    post = {**_post_data(world, proposal), "csrfmiddlewaretoken": token}
    assert pat.post(_url(plan), post).status_code == 302
