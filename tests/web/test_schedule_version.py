"""The schedule version the database keeps for each clinic (migration 0029): every kind of write to
what a diary or a calendar feed shows adds to it, of that clinic only, whatever made the write;
and what is kept by it (scheduling/versions.py) is what would be drawn anew: the diary, and a
calendar feed's fingerprint."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import (
    Appointment,
    Clinic,
    ClosureDay,
    Patient,
    Room,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from dermis.web.clinic.patients import services as patients
from dermis.web.clinic.scheduling import diary, services, setup, versions
from dermis.web.clinic.tenancy import services as tenancy
from tests import factories
from tests.web.test_availability_pages import _off
from tests.web.test_notice_period_migration import back_to_the_latest  # noqa: F401


def _versions(world) -> tuple[int, int]:
    return tuple(versions.schedule_version(c.pk) for c in (world.northgate, world.riverside))


@pytest.fixture
def day(world):
    factories.working_hours(world.pat)
    factories.working_hours(world.alice)
    return factories.next_weekday_at(9, days_ahead=7, weekday=1)


def test_every_write_to_what_the_schedule_shows_adds_to_its_clinic_only(world, day):
    admin = factories.actor(world.alice)
    steps = [
        ("a booking", lambda: factories.appointment(world.pat, world.nora, day)),
        ("a move", lambda: services.move_appointment(
            factories.actor(world.pat), Appointment.objects.get(patient=world.nora),
            start=day + timedelta(hours=2))),
        ("a raw update", lambda: Appointment.objects.filter(patient=world.nora).update(
            notes="parking at the back")),
        ("a patient's name", lambda: patients.update_patient(
            factories.actor(world.pat), world.nora, family_name="Newname")),
        ("a new member of staff", lambda: factories.staff_member(
            world.pat, "vic", "practitioner", "Vic Vernon")),
        ("a display name", lambda: StaffMember.objects.filter(pk=world.pat.pk).update(
            display_name="Pat P.")),
        ("where staff work", lambda: world.pat.locations.add(
            factories.location(world.pat, "Annexe"))),
        ("working hours", lambda: factories.working_hours(world.pat, days=range(5))),
        ("time off", lambda: setup.add_time_off(
            admin, world.pat, start=day, end=day + timedelta(hours=3), reason="course")),
        ("time off removed", lambda: TimeOff.objects.filter(staff=world.pat).delete()),
        ("a closed day", lambda: setup.add_closure(
            admin, timezone.localtime(day).date(), reason="training")),
        ("a closed day removed", lambda: ClosureDay.objects.filter(
            clinic=world.northgate).delete()),
        ("a room", lambda: setup.add_room(
            admin, "Room 9", world.northgate.locations.order_by("pk").first())),
        ("a room renamed", lambda: Room.objects.filter(clinic=world.northgate).update(
            name="Room 10")),
        ("a location renamed", lambda: tenancy.update_location(
            admin, world.northgate.locations.order_by("pk").first(), name="Main house")),
        ("the clinic's name", lambda: Clinic.objects.filter(pk=world.northgate.pk).update(
            name="Northgate Skin")),
        ("hours removed", lambda: WorkingHours.objects.filter(staff=world.pat).delete()),
        ("a cancellation", lambda: Appointment.objects.filter(patient=world.nora).delete()),
    ]  # fmt: skip
    for what, write in steps:
        before = _versions(world)
        write()
        after = _versions(world)
        assert after[0] > before[0], what
        assert after[1] == before[1], f"{what} changed the other clinic's version"


def test_writes_to_nothing_the_schedule_shows_leave_it(world):
    before = _versions(world)
    Patient.objects.filter(pk=world.nora.pk).update(phone="07700 900123", email="n@example.org")
    Clinic.objects.filter(pk=world.northgate.pk).update(idle_timeout_minutes=45)
    factories.patient(world.pat, "New", "Patient")  # no appointment yet: on no diary
    assert _versions(world) == before


def test_a_bulk_load_into_two_clinics_adds_to_both(world):
    before = _versions(world)
    start = timezone.now() + timedelta(days=60)
    Appointment.objects.bulk_create(
        Appointment(
            clinic=staff.clinic,
            patient=who,
            practitioner=staff,
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i, minutes=30),
        )
        for i, (staff, who) in enumerate(
            [(world.pat, world.nora), (world.pat, world.nora), (world.oscar, world.rhys)]
        )
    )
    after = _versions(world)
    assert after[0] > before[0] and after[1] > before[1]


def test_the_diary_says_when_time_alone_would_change_it(world, day):
    booked = factories.appointment(world.pat, world.nora, day + timedelta(hours=3))
    first_day = timezone.localtime(day).date()
    # Before the day: its first free slot, at the start of the working hours, comes first.
    now = day - timedelta(days=1)
    d = diary.build(world.northgate, first_day, now=now)
    slots = [b.start for x in d.days for c in x.columns for b in c.slots]
    assert d.changes_at == min(slots) > now
    # During the appointment: it ends (and needs an outcome) before any later slot passes...
    during = booked.start + timedelta(minutes=10)
    d = diary.build(world.northgate, first_day, now=during)
    later = [b.start for x in d.days for c in x.columns for b in c.slots]
    assert d.changes_at == min([booked.end, *later])
    # ...and after the day nothing changes with time alone.
    assert diary.build(world.northgate, first_day, now=day + timedelta(days=2)).changes_at is None


# --- What is kept by the version: transactions of their own, as a server's requests are. ---


@pytest.mark.django_db(transaction=True)
def test_kept_text_is_drawn_again_when_the_version_moves_or_its_time_is_up(world):
    drawn = []
    now = timezone.now()

    def draw(text: str, until):
        def again():
            drawn.append(text)
            return text, until

        return again

    clinic = world.northgate.pk
    assert versions.kept("t", clinic, ("a",), now, draw("one", None)) == "one"
    assert versions.kept("t", clinic, ("a",), now, draw("two", None)) == "one"  # kept
    assert versions.kept("t", clinic, ("b",), now, draw("three", None)) == "three"  # other parts
    factories.working_hours(world.pat, days=[0])
    assert versions.kept("t", clinic, ("a",), now, draw("four", None)) == "four"  # version moved
    soon = now + timedelta(minutes=5)
    assert versions.kept("t", clinic, ("c",), now, draw("five", soon)) == "five"
    assert (
        versions.kept("t", clinic, ("c",), soon - timedelta(seconds=1), draw("6", soon)) == "five"
    )
    assert versions.kept("t", clinic, ("c",), soon, draw("seven", soon)) == "seven"  # time is up
    assert drawn == ["one", "three", "four", "five", "seven"]
    # Inside a transaction nothing is kept or taken: its rows may never be committed.
    with transaction.atomic():
        assert versions.kept("t", clinic, ("a",), now, draw("eight", None)) == "eight"
    assert versions.kept("t", clinic, ("a",), now, draw("nine", None)) == "four"


@pytest.mark.django_db(transaction=True)
def test_what_the_process_kept_is_served_without_the_shared_cache_and_as_carefully(world):
    from django.core.cache import cache
    from django.test.utils import CaptureQueriesContext

    from dermis.web.clinic import process_memo

    now, soon = timezone.now(), timezone.now() + timedelta(minutes=5)
    clinic = world.northgate.pk

    def draw(text: str):
        return lambda: (text, soon)

    assert versions.kept("t", clinic, ("a",), now, draw("one")) == "one"
    cache.clear()  # the shared cache emptied (another process, a restart of Redis)...
    with CaptureQueriesContext(connection) as seen:
        assert versions.kept("t", clinic, ("a",), now, draw("two")) == "one"  # ...kept here
    assert not [q for q in seen.captured_queries if "cache" in q["sql"]]
    # Its time is checked as the shared cache's is, and a new version is drawn anew.
    assert versions.kept("t", clinic, ("a",), soon, draw("three")) == "three"
    factories.working_hours(world.pat, days=[0])
    assert versions.kept("t", clinic, ("a",), now, draw("four")) == "four"
    # A process that kept nothing takes the shared cache's, and keeps it.
    process_memo.clear_all()
    assert versions.kept("t", clinic, ("a",), now, draw("five")) == "four"
    cache.clear()
    assert versions.kept("t", clinic, ("a",), now, draw("six")) == "four"


def _week(client, day) -> str:
    """The diary's week, its form's CSRF token (masked anew on every page) left out."""
    query = {"date": timezone.localtime(day).date().isoformat(), "view": "week"}
    page = client.get(reverse("diary"), query).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


@pytest.mark.django_db(transaction=True)
def test_the_kept_diary_is_the_drawn_one_and_shows_each_change(world, day, client_as):
    factories.appointment(world.pat, world.nora, day + timedelta(hours=1))
    fran = client_as("fran")
    with CaptureQueriesContext(connection) as drawing:
        drawn = _week(fran, day)
    with CaptureQueriesContext(connection) as keeping:
        kept = _week(fran, day)
    assert kept == drawn
    assert len(keeping.captured_queries) < len(drawing.captured_queries)
    # Each change shows on the next view: a booking, a patient's new name, a closed day.
    newcomer = factories.patient(world.pat, "Quentin", "Newlybooked")
    factories.appointment(world.pat, newcomer, day + timedelta(hours=4))
    assert "Newlybooked" in _week(fran, day)
    patients.update_patient(factories.actor(world.pat), world.nora, family_name="Brandnew")
    assert "Brandnew" in _week(fran, day)
    setup.add_closure(
        factories.actor(world.alice), timezone.localtime(day).date(), reason="staff training"
    )
    assert "staff training" in _week(fran, day)
    # The admin's page has its link to the closures; another clinic's has none of this one's.
    assert reverse("closures") in _week(client_as("alice"), day)
    assert reverse("closures") not in _week(fran, day)
    assert "Brandnew" not in _week(client_as("oscar"), day)


@pytest.mark.django_db(transaction=True)
def test_a_feed_fetched_again_reads_no_fingerprint_and_sees_a_new_booking(world, day):
    from django.test import Client

    _, token = setup.create_feed(Actor.of_staff(world.pat), staff=world.pat)
    url = f"/calendar/{token}.ics"
    first = Client().get(url)
    with CaptureQueriesContext(connection) as again:
        second = Client().get(url)
    assert second.content == first.content and second["ETag"] == first["ETag"]
    # Neither its fingerprint nor its events were read again: both were kept.
    assert not [q for q in again.captured_queries if "clinic_appointment" in q["sql"]]
    factories.appointment(world.pat, world.nora, day + timedelta(hours=2))
    third = Client().get(url)
    assert third["ETag"] != first["ETag"]
    assert third.content.count(b"BEGIN:VEVENT") == first.content.count(b"BEGIN:VEVENT") + 1


def _availability(client) -> tuple[str, str]:
    """The availability page, and the CSRF token its forms carry (all the same one)."""
    page = client.get(reverse("availability")).content.decode()
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', page))
    assert len(tokens) == 1 and "\x00" not in page
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page), tokens.pop()


@pytest.mark.django_db(transaction=True)
def test_the_kept_availability_page_takes_each_requests_token_and_shows_each_change(
    world, client_as, monkeypatch
):
    from django.test import Client

    pat = Client(enforce_csrf_checks=True)
    pat.force_login(world.user("pat"))
    drawn, _ = _availability(pat)
    with CaptureQueriesContext(connection) as keeping:
        kept, token = _availability(pat)
    assert kept == drawn and "Add time off" in kept
    assert not [q for q in keeping.captured_queries if "clinic_workinghours" in q["sql"]]
    # The kept page's token is this session's: its form is accepted, and the change shows.
    start = timezone.localtime() + timedelta(days=3)
    answer = pat.post(
        reverse("availability-timeoff", args=[world.pat.pk]),
        {"csrfmiddlewaretoken": token, **_off(world.pat, start, start + timedelta(hours=1))},
    )
    assert answer.status_code == 302
    assert "Conference" in _availability(pat)[0]
    setup.add_equipment(factories.actor(world.alice), "Pen Seven", "automated_pen")
    assert "Pen Seven" in _availability(pat)[0]
    # The admin's page is the admin's (the forms to add rooms and devices), not the kept one.
    alice = client_as("alice")
    assert "Add a device" in _availability(alice)[0] and "Add a device" not in kept
    # Time off that has ended leaves the page, with nothing written meanwhile (twenty minutes:
    # within the session's idle limit).
    now = timezone.now()
    TimeOff.objects.create(
        staff=world.pat, start=now - timedelta(hours=1), end=now + timedelta(minutes=10),
        reason="Short break",
    )  # fmt: skip
    assert "Short break" in _availability(pat)[0] and "Short break" in _availability(pat)[0]
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(minutes=20))
    assert "Short break" not in _availability(pat)[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest")
def test_migration_0029_undone_and_done_again_never_gives_a_number_twice(world):
    from django.db.migrations.executor import MigrationExecutor

    factories.working_hours(world.pat, days=[0])
    before = _versions(world)
    executor = MigrationExecutor(connection)
    executor.migrate([("clinic", "0028_audit_event_fewer_indexes")])
    with connection.cursor() as cursor:  # no triggers are left behind to write to nothing
        cursor.execute("UPDATE clinic_staffmember SET display_name = display_name")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    # 0029 and what follows it: the services below write today's audit trail.
    executor.migrate(executor.loader.graph.leaf_nodes())
    again = _versions(world)
    assert again[0] > before[0] and again[1] > before[1]
    factories.working_hours(world.pat, days=[1])  # and the triggers are back
    assert _versions(world)[0] > again[0]
