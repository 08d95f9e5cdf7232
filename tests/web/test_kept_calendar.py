"""What a slot search reads of a clinic's schedule (`availability.build`) is kept by the clinic's
schedule version: a search asked again reads no bookings, and finds what a fresh read finds; each
booking, time off, closed day or change of hours shows on the next search; inside a transaction
(where a booking checks its slots) the schedule is always read."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dermis.web.clinic.scheduling import availability, setup
from tests import factories


@pytest.fixture
def week(world):
    factories.working_hours(world.pat)
    day = factories.next_weekday_at(9, days_ahead=7, weekday=1)
    first = timezone.localtime(day).date()
    return day, availability.window_for(first, first + timedelta(days=6))


def _search(world, window):
    start, end = window
    place = world.pat.clinic.locations.order_by("pk").first()
    return availability.build([world.pat], start, end, location=place)


def _seen(calendar) -> tuple:
    """What a search finds in a calendar: its merged busy times, time off and hours."""
    hours = {who: dict(h.by_weekday) for who, h in calendar.working_hours.items()}
    return calendar.busy._merged, calendar.time_off._merged, hours


def _read_bookings(seen) -> bool:
    return any("clinic_appointment" in q["sql"] for q in seen.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_a_search_asked_again_is_kept_and_finds_what_a_fresh_read_finds(world, week):
    day, window = week
    factories.appointment(world.pat, world.nora, day)
    with CaptureQueriesContext(connection) as first:
        read = _search(world, window)
    with CaptureQueriesContext(connection) as again:
        kept = _search(world, window)
    assert _read_bookings(first) and not _read_bookings(again)
    assert _seen(kept) == _seen(read)
    with transaction.atomic():  # as a booking checks its slots: read, whatever is kept
        fresh = _search(world, window)
    assert _seen(fresh) == _seen(read)


@pytest.mark.django_db(transaction=True)
def test_each_change_to_the_schedule_shows_on_the_next_search(world, week):
    day, window = week
    admin = factories.actor(world.alice)
    before = _seen(_search(world, window))
    factories.appointment(world.pat, world.nora, day + timedelta(hours=2))
    booked = _seen(_search(world, window))
    assert booked[0] != before[0]  # the booking is busy
    setup.add_time_off(admin, world.pat, day + timedelta(days=1), day + timedelta(days=2))
    away = _seen(_search(world, window))
    assert away[1] != booked[1]
    setup.add_closure(admin, timezone.localtime(day).date() + timedelta(days=3), reason="training")
    closed = _seen(_search(world, window))
    assert closed[1] != away[1]
    factories.working_hours(world.pat, time(10), time(12))
    hours = _seen(_search(world, window))[2]
    assert hours != closed[2]
    assert all(spans == ((time(10), time(12)),) for spans in next(iter(hours.values())).values())


@pytest.mark.django_db(transaction=True)
def test_a_booking_inside_a_transaction_is_seen_by_the_search_inside_it(world, week):
    day, window = week
    before = _seen(_search(world, window))  # kept
    with transaction.atomic():
        factories.appointment(world.pat, world.nora, day + timedelta(hours=3))
        inside = _seen(_search(world, window))
        transaction.set_rollback(True)
    assert inside[0] != before[0]
    assert _seen(_search(world, window)) == before  # rolled back: as it was
