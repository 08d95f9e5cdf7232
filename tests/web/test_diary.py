"""The diary page: what it shows, booking from an empty slot, moving, and its query count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from dermis.web.clinic.models import Appointment, Room, TimeOff
from dermis.web.clinic.scheduling import services, setup
from tests import factories


@pytest.fixture
def day(world):
    factories.working_hours(world.pat)
    factories.working_hours(world.alice)
    return factories.next_weekday_at(9, days_ahead=7, weekday=1)


def _diary(client, when, **more):
    query = {"date": timezone.localtime(when).date().isoformat(), **more}
    return client.get(reverse("diary"), query)


def test_day_shows_each_practitioner_with_name_treatment_and_status(world, day, client_as):
    a = factories.appointment(world.pat, world.nora, day + timedelta(hours=1), by=world.fran)
    services.set_status(factories.actor(world.fran), a, "confirmed")
    page = _diary(client_as("fran"), day).content.decode()
    assert "Pat Practitioner" in page and "Alice Admin" in page
    assert world.nora.full_name in page
    assert "kind-consultation status-confirmed" in page
    assert "Confirmed" in page
    # working hours are shaded and free times are offered to book
    assert "dg-hours" in page and "Book with Pat Practitioner" in page
    # another clinic's diary shows nothing of Northgate's
    assert world.nora.full_name not in _diary(client_as("oscar"), day).content.decode()


def test_week_view_starts_on_monday_and_shows_seven_days(world, day, client_as):
    page = _diary(client_as("fran"), day, view="week").content.decode()
    monday = timezone.localtime(day).date() - timedelta(days=timezone.localtime(day).weekday())
    assert f"week of {monday:%-d %B %Y}" in page
    assert page.count('class="diary-day"') == 7


def test_time_off_and_closures_are_blocked(world, day, client_as):
    TimeOff.objects.create(staff=world.pat, start=day, end=day + timedelta(hours=2))
    page = _diary(client_as("fran"), day).content.decode()
    assert "dg-away" in page
    setup.add_closure(
        factories.actor(world.alice), timezone.localtime(day).date(), reason="staff training"
    )
    closed = _diary(client_as("fran"), day).content.decode()
    assert "Closed: staff training" in closed
    assert "Book with" not in closed


def test_room_view_has_a_column_per_room(world, day, client_as):
    place = world.northgate.locations.first()
    setup.add_room(factories.actor(world.alice), "Treatment 1", place)
    room = Room.objects.get(name="Treatment 1")
    services.book_appointment(
        factories.actor(world.fran),
        world.nora,
        practitioner=world.pat,
        start=day,
        end=day + timedelta(minutes=30),
        kind="consultation",
        room=room,
    )
    page = _diary(client_as("fran"), day, by="room").content.decode()
    assert "Treatment 1" in page and world.nora.full_name in page
    assert "with Pat Practitioner" in page


def test_a_past_booked_appointment_needs_an_outcome(world, day, client_as):
    a = factories.appointment(world.pat, world.nora, day, by=world.fran)
    later = a.end + timedelta(days=1)
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=later):
        page = _diary(client_as("fran"), day).content.decode()
    assert "needs-outcome" in page and "Needs an outcome" in page


def test_booking_from_an_empty_slot(world, day, client_as):
    client = client_as("fran")
    page = _diary(client, day).content.decode()
    start = timezone.localtime(day + timedelta(hours=2))
    marker = f"practitioner={world.pat.pk}&amp;start={start:%Y-%m-%dT%H}%3A00"
    assert marker in page
    href = page[page.index(marker) - 40 : page.index(marker) + 200]
    href = href[href.index("/diary/book/") : href.index('"', href.index("/diary/book/"))]
    href = href.replace("&amp;", "&")
    chooser = client.get(href, {"q": world.nora.family_name})
    assert world.nora.full_name in chooser.content.decode()
    query = parse_qs(urlparse(href).query)
    form_url = reverse("appointment-create", args=[world.nora.pk])
    form = client.get(
        form_url,
        {"practitioner": world.pat.pk, "start": query["start"][0], "next": query["next"][0]},
    )
    assert form.context["form"].initial["start"] == query["start"][0]
    made = client.post(
        f"{form_url}?next={query['next'][0]}",
        {
            "practitioner": world.pat.pk,
            "kind": "consultation",
            "start": query["start"][0],
            "duration_minutes": 30,
        },
    )
    assert made.status_code == 302 and made["Location"].startswith("/diary/")
    booked = Appointment.objects.get(patient=world.nora)
    assert timezone.localtime(booked.start) == start.replace(minute=0)


def test_dropping_on_a_time_previews_the_move(world, day, client_as):
    a = factories.appointment(world.pat, world.nora, day, by=world.fran)
    page = _diary(client_as("fran"), day).content.decode()
    assert f'data-move-url="{reverse("appointment-reschedule", args=[a.pk])}"' in page
    new = timezone.localtime(day + timedelta(hours=3))
    preview = client_as("fran").get(
        reverse("appointment-reschedule", args=[a.pk]),
        {"day": new.date().isoformat(), "time": f"{new:%H:%M}", "next": "/diary/"},
    )
    assert preview.status_code == 200
    assert preview.context["preview"] is not None and preview.context["preview"].result.ok
    a.refresh_from_db()
    assert a.start == day  # nothing moved until confirmed


def _queries(client, when) -> int:
    with CaptureQueriesContext(connection) as seen:
        assert _diary(client, when, view="week").status_code == 200
    return len(seen)


def test_query_count_does_not_grow_with_the_appointments(world, day, client_as):
    client = client_as("fran")
    client.get(reverse("diary"))  # session and first-request queries out of the way
    patients = [world.nora, factories.patient(world.pat, "Bea", "Brown")]

    def book(n: int, offset: int) -> None:
        for i in range(n):
            start = day + timedelta(days=i % 5, minutes=30 * (offset + i // 5))
            factories.appointment(world.pat, patients[i % 2], start, minutes=30, by=world.fran)

    book(2, 0)
    few = _queries(client, day)
    book(20, 2)
    many = _queries(client, day)
    assert Appointment.objects.count() == 22
    assert few == many


def test_many_practitioners_are_shown_a_page_of_columns_at_a_time(world, day, client_as):
    """Eight practitioners side by side, the next eight a link away: the page is one size (and
    one number of queries) whatever the size of the clinic."""
    from django.contrib.auth import get_user_model

    from dermis.web.clinic.models import Role, StaffMember
    from dermis.web.clinic.scheduling.diary import COLUMNS_PER_PAGE

    client = client_as("fran")
    client.get(reverse("diary"))
    few = _queries(client, day)
    for k in range(COLUMNS_PER_PAGE + 3):
        StaffMember.objects.create(
            user=get_user_model().objects.create(username=f"many-{k}"), clinic=world.northgate,
            role=Role.PRACTITIONER, display_name=f"Zed {k:02d}",
        )  # fmt: skip
    many = _queries(client, day)
    assert few == many
    first = _diary(client, day)
    titles = [c.title for c in first.context["diary"].days[0].columns]
    assert len(titles) == COLUMNS_PER_PAGE
    total = first.context["diary"].column_total
    assert f"Practitioners 1–{COLUMNS_PER_PAGE} of {total}" in first.content.decode()
    following = client.get(first.context["columns_nav"]["next"] and
                           reverse("diary") + first.context["columns_nav"]["next"])  # fmt: skip
    rest = [c.title for c in following.context["diary"].days[0].columns]
    assert not set(rest) & set(titles)
    assert len(titles) + len(rest) == total
    assert following.context["columns_nav"]["next"] is False  # the last page


@pytest.mark.parametrize("by", ["practitioner", "room"])
def test_names_on_the_grid_are_escaped(world, day, client_as, by):
    """The grid is written without the template engine: what staff typed stays text."""
    place = world.northgate.locations.first()
    setup.add_room(factories.actor(world.alice), "<i>Room</i> & 'B'", place)
    room = Room.objects.get(clinic=world.northgate)
    eve = factories.patient(world.fran, given="<b>Eve</b>", family='"O\'Neil"')
    services.book_appointment(
        factories.actor(world.fran),
        eve,
        practitioner=world.pat,
        start=day,
        end=day + timedelta(minutes=30),
        kind="consultation",
        room=room,
    )
    page = _diary(client_as("fran"), day, by=by).content.decode()
    assert "&lt;b&gt;Eve&lt;/b&gt; &quot;O&#x27;Neil&quot;" in page
    assert "<b>Eve</b>" not in page and "<i>Room</i>" not in page
    if by == "room":
        assert "&lt;i&gt;Room&lt;/i&gt; &amp; &#x27;B&#x27;" in page


QUARTERS = st.integers(-8, 60).map(lambda k: 15 * k)  # bookings start and end on quarter hours


@example(window=(0, 90), now=-60, busy=[(0, 30)])  # a booking that ends as a slot starts
@example(window=(0, 60), now=-60, busy=[(30, 30)])  # one that starts as a slot ends
@example(window=(0, 120), now=-60, busy=[(0, 120), (15, 15)])  # a short one inside a long one
@given(
    window=st.tuples(QUARTERS, st.integers(0, 48).map(lambda k: 15 * k)),
    now=st.one_of(QUARTERS, st.integers(-60, 900)),
    busy=st.lists(st.tuples(st.one_of(QUARTERS, st.integers(-120, 900)), QUARTERS), max_size=25),
)
def test_free_slots_are_those_no_busy_time_overlaps(window, now, busy):
    """The diary's empty slots (one pass over merged busy times) are those the definition gives:
    from now on, every half hour of the window, overlapping no booking or time away."""
    from dermis.web.clinic.scheduling.diary import SLOT_EVERY, free_starts

    base = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    at = lambda minutes: base + timedelta(minutes=minutes)  # noqa: E731
    s_at, e_at = at(window[0]), at(window[0] + window[1])
    spans = [(at(s), at(s + abs(n))) for s, n in busy]
    expected, slot = [], s_at
    while slot < e_at:
        nxt = slot + timedelta(minutes=SLOT_EVERY)
        if slot >= at(now) and not any(s < nxt and slot < e for s, e in spans):
            expected.append(slot)
        slot = nxt
    assert free_starts(s_at, e_at, at(now), spans) == expected


@pytest.mark.parametrize("by", ["practitioner", "room"])
def test_a_location_shows_its_own_and_unplaced_appointments_only(world, day, client_as, by):
    """The diary at one location: appointments there and those without a place, not another
    location's; by practitioner and by room, as the diary at every location shows them all."""
    from dermis.web.clinic.models import Location

    here = world.northgate.locations.first()
    there = Location.objects.create(clinic=world.northgate, name="Annexe", town="Leeds")
    setup.add_room(factories.actor(world.alice), "Room Here", here)
    room = Room.objects.get(name="Room Here")
    placed = {}
    for i, (who, where) in enumerate([("here", here), ("there", there), ("nowhere", None)]):
        patient = factories.patient(world.fran, given=f"Seen{who.capitalize()}", family="Placed")
        placed[who] = patient.full_name
        Appointment.objects.create(
            clinic=world.northgate, patient=patient, practitioner=world.pat,
            start=day + timedelta(hours=i), end=day + timedelta(hours=i, minutes=30),
            kind="consultation", location=where, room=room if where == here else None,
        )  # fmt: skip
    everywhere = _diary(client_as("fran"), day, by=by).content.decode()
    at_here = _diary(client_as("fran"), day, by=by, location=here.pk).content.decode()
    assert all(name in everywhere for name in placed.values())
    assert placed["here"] in at_here and placed["nowhere"] in at_here
    assert placed["there"] not in at_here
