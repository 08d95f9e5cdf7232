"""iCalendar feeds: made by staff, read by anyone with the secret token, revocable, RFC 5545."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, time, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.models import Appointment, AuditEvent, CalendarFeed, Patient
from dermis.web.clinic.reminders.services import at_clinic_time
from dermis.web.clinic.scheduling.booking import Booking, book

HOUR = timedelta(hours=1)
STAFF_NEW = reverse("calendar-feed-create-staff")
LIST = reverse("calendar-feed-list")


def _at(days: int, hour: int = 11) -> datetime:
    return at_clinic_time(timezone.localdate() + timedelta(days=days), time(hour))


def _book(world, patient: Patient, practitioner, days: int, **kw) -> Appointment:
    start = _at(days)
    place = patient.clinic.locations.get()
    return book(patient, Booking(start, start + HOUR, practitioner, location=place), **kw)


def _token(response) -> str:
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    match = re.search(r'value="http://testserver/calendar/([A-Za-z0-9_-]+)\.ics"', response.text)
    assert match, "the page shows the feed address"
    return match.group(1)


def _parse(response) -> icalendar.Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.content)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"])
    for event in cal.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert required in event, required
    return cal


def _feed(client, token: str):
    return client.get(reverse("calendar-feed", kwargs={"token": token}))


def test_a_practitioner_feed_lists_their_appointments_with_initials_only(world, client_as):
    mine = _book(world, world.nora, world.pat, days=3, kind=Appointment.Kind.TREATMENT)
    _book(world, world.nora, world.alice, days=4)  # someone else's
    _book(world, world.nora, world.pat, days=-40)  # too long ago
    gone = _book(world, world.nora, world.pat, days=5)
    Appointment.objects.filter(pk=gone.pk).update(status=Appointment.Status.CANCELLED)

    token = _token(client_as("pat").post(STAFF_NEW))
    response = _feed(client_as("anonymous"), token)

    cal = _parse(response)
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{mine.pk}@dermis"
    assert (event["DTSTART"].dt, event["DTEND"].dt) == (mine.start, mine.end)
    assert str(event["SUMMARY"]) == "N. Q. · Treatment session"
    assert b"Nora" not in response.content and b"Quinn" not in response.content


def test_a_patient_feed_shows_clinic_kind_and_practitioner_and_is_audited(world, client_as):
    appt = _book(world, world.nora, world.pat, days=2, kind=Appointment.Kind.CONSULTATION)
    _book(world, world.nora, world.pat, days=300)
    url = reverse("calendar-feed-create-patient", kwargs={"patient_id": world.nora.pk})

    token = _token(client_as("fran").post(url))  # front desk may share appointments
    cal = _parse(_feed(client_as("anonymous"), token))

    events = sorted(cal.walk("VEVENT"), key=lambda e: e["DTSTART"].dt)
    assert len(events) == 2
    assert str(events[0]["SUMMARY"]) == "Consultation at Northgate Skin Clinic"
    assert "Consultation with Pat Practitioner." in str(events[0]["DESCRIPTION"])
    assert str(events[0]["UID"]) == f"appointment-{appt.pk}@dermis"
    feed = CalendarFeed.objects.get()
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE)
    assert (event.patient_id_ref, event.object_type, event.object_id) == (
        world.nora.pk,
        "CalendarFeed",
        str(feed.pk),
    )
    assert "Nora" not in event.summary


def test_only_a_hash_of_the_token_is_stored(world, client_as):
    token = _token(client_as("pat").post(STAFF_NEW))

    feed = CalendarFeed.objects.get()
    assert feed.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 40
    assert feed.staff == world.pat
    # Shown once: the list page does not show it again.
    assert token not in client_as("pat").get(LIST).text


def test_a_revoked_or_unknown_token_is_a_404(world, client_as):
    pat = client_as("pat")
    token = _token(pat.post(STAFF_NEW))
    feed = CalendarFeed.objects.get()
    assert _feed(client_as("anonymous"), token).status_code == 200

    response = pat.post(reverse("calendar-feed-revoke", kwargs={"pk": feed.pk}))

    assert response.status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert _feed(client_as("anonymous"), token).status_code == 404
    assert _feed(client_as("anonymous"), "x" * 43).status_code == 404
    assert client_as("anonymous").get("/calendar/short.ics").status_code == 404


def test_a_feed_of_a_practitioner_who_left_stops_working(world, client_as):
    token = _token(client_as("pat").post(STAFF_NEW))
    world.pat.user.is_active = False
    world.pat.user.save()

    assert _feed(client_as("anonymous"), token).status_code == 404


@pytest.mark.parametrize(
    ("persona", "status"),
    [("pat", 302), ("alice", 302), ("fran", 403), ("oscar", 404), ("nobody", 403)],
)
def test_only_the_owner_or_an_admin_may_revoke(world, client_as, persona, status):
    _token(client_as("pat").post(STAFF_NEW))
    feed = CalendarFeed.objects.get()

    response = client_as(persona).post(reverse("calendar-feed-revoke", kwargs={"pk": feed.pk}))

    assert response.status_code == status
    feed.refresh_from_db()
    assert (feed.revoked_at is not None) == (status == 302)


def test_revoking_a_patient_feed_is_audited(world, client_as):
    url = reverse("calendar-feed-create-patient", kwargs={"patient_id": world.nora.pk})
    _token(client_as("fran").post(url))
    feed = CalendarFeed.objects.get()

    client_as("fran").post(reverse("calendar-feed-revoke", kwargs={"pk": feed.pk}))

    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert (event.patient_id_ref, event.object_id) == (world.nora.pk, str(feed.pk))


@pytest.mark.parametrize(
    ("persona", "status"),
    [("alice", 200), ("pat", 200), ("fran", 200), ("oscar", 404), ("nobody", 403)],
)
def test_who_may_make_a_patient_feed(world, client_as, persona, status):
    url = reverse("calendar-feed-create-patient", kwargs={"patient_id": world.nora.pk})

    assert client_as(persona).get(url).status_code == status
    assert client_as(persona).post(url).status_code == status
    assert CalendarFeed.objects.count() == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("persona", "status"), [("alice", 200), ("pat", 200), ("fran", 403), ("nobody", 403)]
)
def test_who_may_make_a_feed_of_their_own_appointments(world, client_as, persona, status):
    assert client_as(persona).post(STAFF_NEW).status_code == status


def test_staff_feed_creation_is_post_only(world, client_as):
    assert client_as("pat").get(STAFF_NEW).status_code == 405
    assert CalendarFeed.objects.count() == 0


def test_anonymous_users_reach_feeds_only_through_a_token(world, client_as):
    anonymous = client_as("anonymous")
    patient_new = reverse("calendar-feed-create-patient", kwargs={"patient_id": world.nora.pk})

    for url in (LIST, STAFF_NEW, patient_new, reverse("calendar-feed-revoke", kwargs={"pk": 1})):
        response = anonymous.post(url) if url != LIST else anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert CalendarFeed.objects.count() == 0


def test_the_list_shows_your_feeds_and_an_admin_sees_the_clinics(world, client_as):
    _token(client_as("pat").post(STAFF_NEW))
    _token(client_as("alice").post(STAFF_NEW))
    rhys_feed = reverse("calendar-feed-create-patient", kwargs={"patient_id": world.rhys.pk})
    _token(client_as("oscar").post(rhys_feed))

    pat_page = client_as("pat").get(LIST).text
    alice_page = client_as("alice").get(LIST).text
    oscar_page = client_as("oscar").get(LIST).text

    assert "Your appointments" in pat_page and "Alice Admin" not in pat_page
    assert "Practitioner: Pat Practitioner" in alice_page and "Rhys" not in alice_page
    assert "Patient: Rhys Owen" in oscar_page and "Pat Practitioner" not in oscar_page
    assert pat_page.count("<h1") == 1
    assert 'aria-label="Revoke feed' in pat_page


def test_an_admin_pages_through_the_clinics_feeds_newest_first(world, client_as):
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.scheduling import setup
    from dermis.web.clinic.scheduling.views.calendar_feeds import FEEDS_PER_PAGE

    made = [
        setup.create_feed(Actor.of_staff(world.fran), patient=world.nora)[0]
        for _ in range(FEEDS_PER_PAGE + 2)
    ]
    admin = client_as("alice")
    first, second = admin.get(LIST), admin.get(LIST, {"page": 2})
    assert [f.pk for f, _ in first.context["rows"]] == [f.pk for f in made[::-1][:FEEDS_PER_PAGE]]
    assert [f.pk for f, _ in second.context["rows"]] == [f.pk for f in made[::-1][FEEDS_PER_PAGE:]]
    assert 'href="?page=2">Next page' in first.text and "Page 2 of 2" in second.text
    assert admin.get(LIST, {"page": "x"}).context["page"].number == 1


@pytest.mark.parametrize("audience", ["patient", "staff"])
def test_a_feed_read_as_columns_says_what_the_appointment_says(world, audience):
    """The feed reads appointments as one query's columns (`ROW_FIELDS`); emails build events from
    the models. Both give the same event text, with and without a location or a room."""
    from dermis.web.clinic.models import Room
    from dermis.web.clinic.scheduling import ical

    placed = _book(world, world.nora, world.pat, days=3, kind=Appointment.Kind.TREATMENT)
    room = Room.objects.create(clinic=world.northgate, location=placed.location, name="Room 2")
    Appointment.objects.filter(pk=placed.pk).update(room=room)
    start = _at(5)
    unplaced = book(world.nora, Booking(start, start + HOUR, world.pat))
    assert unplaced.location is None
    kind = ical.Audience(audience)
    for appointment in (placed, unplaced):
        model = Appointment.objects.get(pk=appointment.pk)
        (row,) = Appointment.objects.filter(pk=appointment.pk).values(*ical.ROW_FIELDS)
        assert ical.row_facts(row, kind) == ical.facts(model, kind)
    said = ical.facts(Appointment.objects.get(pk=placed.pk), kind)
    assert ("Room 2" in said[-1]) == (audience == "staff")  # rooms are internal


def test_an_unchanged_feed_is_answered_without_building_its_events(world, client_as, monkeypatch):
    """Whether a feed changed is told from its columns; its events are built only when it did."""
    from dermis.web.clinic.scheduling import ical

    _book(world, world.nora, world.pat, days=3)
    token = _token(client_as("pat").post(STAFF_NEW))
    anonymous = client_as("anonymous")
    first = _feed(anonymous, token)
    assert len(_parse(first).walk("VEVENT")) == 1

    def built(*args, **kwargs):
        raise AssertionError("the events were built again")

    monkeypatch.setattr(ical, "row_facts", built)
    again = _feed(anonymous, token)
    assert (again.content, again["ETag"]) == (first.content, first["ETag"])


def test_a_feed_is_kept_compressed_and_served_as_it_was_built(world, client_as):
    import zlib

    from django.core.cache import cache

    for days in (3, 4, 5):
        _book(world, world.nora, world.pat, days=days)
    token = _token(client_as("pat").post(STAFF_NEW))
    anonymous = client_as("anonymous")
    first = _feed(anonymous, token)
    feed = CalendarFeed.objects.get(staff=world.pat)
    kept = cache.get(f"dermis:ics-z:{feed.pk}:{first['ETag']}")
    assert kept is not None and len(kept) < len(first.content)
    assert zlib.decompress(kept) == first.content
    again = _feed(anonymous, token)  # from the cache
    assert again.content == first.content
    assert len(_parse(again).walk("VEVENT")) == 3


def test_a_renamed_practitioner_changes_a_patient_feed(world, client_as):
    """A column an event shows (here the practitioner's name in a patient's feed) is a change:
    a new tag, a new time of change and the new text, with nothing else booked or moved."""
    from dermis.web.clinic.models import StaffMember

    _book(world, world.nora, world.pat, days=3, kind=Appointment.Kind.CONSULTATION)
    url = reverse("calendar-feed-create-patient", kwargs={"patient_id": world.nora.pk})
    token = _token(client_as("fran").post(url))
    anonymous = client_as("anonymous")
    first = _feed(anonymous, token)
    assert "Consultation with Pat Practitioner." in str(
        _parse(first).walk("VEVENT")[0]["DESCRIPTION"]
    )

    StaffMember.objects.filter(pk=world.pat.pk).update(display_name="Dr Pat Quill")
    changed = _feed(anonymous, token)
    assert changed["ETag"] != first["ETag"]
    (event,) = _parse(changed).walk("VEVENT")
    assert "Consultation with Dr Pat Quill." in str(event["DESCRIPTION"])


CHANGES = ("nothing", "status", "start", "patient", "room", "address", "another", "cancelled")


@pytest.mark.parametrize("change", CHANGES)
def test_the_fingerprint_follows_every_column_a_feed_is_made_of(world, change):
    """The fingerprint (hashed by PostgreSQL itself there, here elsewhere) is the same for the
    same rows, and changes with any column an event is made of, or a row more or less."""
    from dermis.web.clinic.models import Location, Room
    from dermis.web.clinic.scheduling import ical

    made = _book(world, world.nora, world.pat, days=3, kind=Appointment.Kind.TREATMENT)
    _book(world, world.nora, world.pat, days=4)
    rows = Appointment.objects.filter(practitioner=world.pat).exclude(status="cancelled")
    rows = rows.order_by("start", "pk")

    def fingerprint() -> str:
        return ical.columns_fingerprint("Pat's appointments", ical.Audience.STAFF, rows)

    before = fingerprint()
    assert len(before) == 64 and fingerprint() == before
    this = Appointment.objects.filter(pk=made.pk)
    if change == "status":
        this.update(status=Appointment.Status.CONFIRMED)
    elif change == "start":
        this.update(start=made.start + timedelta(minutes=5), end=made.end + timedelta(minutes=5))
    elif change == "patient":
        Patient.objects.filter(pk=world.nora.pk).update(family_name="O'Neill, Jr")
    elif change == "room":
        place = Location.objects.get(pk=made.location_id)
        this.update(room=Room.objects.create(clinic=world.northgate, location=place, name="Rm (2)"))
    elif change == "address":
        Location.objects.filter(pk=made.location_id).update(address="")
    elif change == "another":
        _book(world, world.nora, world.pat, days=5)
    elif change == "cancelled":
        this.update(status=Appointment.Status.CANCELLED)
    assert (fingerprint() == before) == (change == "nothing")
    # Another calendar's name or audience is another fingerprint of the same rows.
    assert ical.columns_fingerprint("Other", ical.Audience.STAFF, rows) != fingerprint()
    assert ical.columns_fingerprint("Pat's appointments", ical.Audience.PATIENT, rows) != (
        fingerprint()
    )


def test_a_feeds_fingerprint_from_the_query_composed_once_is_the_orms(world):
    """The feed reads its rows' fingerprint through SQL composed once per process: the same
    fingerprint as the ORM's query gives, for a practitioner's and a patient's feed, before and
    after a change."""
    from dermis.web.clinic.scheduling import ical
    from dermis.web.clinic.scheduling.views import calendar_feeds as views

    made = _book(world, world.nora, world.pat, days=3, kind=Appointment.Kind.TREATMENT)
    _book(world, world.nora, world.pat, days=4)
    now = timezone.now()
    for audience, owner in (
        (ical.Audience.STAFF, world.pat.pk),
        (ical.Audience.PATIENT, world.nora.pk),
    ):
        window = {"owner": owner, "since": now - views.FEED_PAST, "until": now + views.FEED_FUTURE}
        rows = views._feed_rows(audience, **window)

        def both(audience=audience, window=window, rows=rows) -> tuple[str, str]:
            said = views.FEED_SAID[audience]
            composed = ical.columns_fingerprint(
                "Feed", audience, rows, statement=lambda: said.statement(**window)
            )
            return composed, ical.columns_fingerprint("Feed", audience, rows)

        first, orm = both()
        assert first == orm and len(rows) == 2
        Appointment.objects.filter(pk=made.pk).update(status=Appointment.Status.CONFIRMED)
        second, orm = both()
        assert second == orm and second != first
        Appointment.objects.filter(pk=made.pk).update(status=Appointment.Status.BOOKED)


def test_the_feeds_page_lists_what_the_orm_reads(world, client_as):
    """The feeds page's lists, composed once: the clinic's for an admin, one's own (for them or
    made by them) for anyone else, each in the ORM's order and counted as the ORM counts."""
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.scheduling import setup
    from dermis.web.clinic.scheduling.views import calendar_feeds as views

    setup.create_feed(Actor.of_staff(world.pat), staff=world.pat)
    setup.create_feed(Actor.of_staff(world.pat), patient=world.nora)
    setup.create_feed(Actor.of_staff(world.alice), staff=world.alice)
    clinic = world.northgate.pk
    cases = [
        (views.CLINIC_FEEDS, views.CLINIC_FEEDS_COUNT, views._of_clinic, {"clinic": clinic}),
        (views.MY_FEEDS, views.MY_FEEDS_COUNT, views._mine,
         {"clinic": clinic, "staff": world.pat.pk, "user": world.pat.user_id}),
    ]  # fmt: skip
    for rows, count, orm, values in cases:
        expected = list(orm(**values))
        assert [f.pk for f in rows.rows(None, **values)] == [f.pk for f in expected]
        assert count.count(**values) == len(expected) > 0
    assert views.CLINIC_FEEDS_COUNT.count(clinic=clinic) == 3
    assert views.MY_FEEDS_COUNT.count(**cases[1][3]) == 2
    page = client_as("pat").get(reverse("calendar-feed-list")).content.decode()
    assert page.count("<tr") - 1 == 2  # a header row and Pat's two
