"""Availability: everyone sees hours, time off, rooms and devices; the admin changes them; a
practitioner adds their own time off. What is stored is what the slot finder books around."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.core.slots import Slot
from dermis.web.clinic.models import AuditEvent, Equipment, Room, TimeOff, WorkingHours
from dermis.web.clinic.scheduling import availability
from dermis.web.clinic.scheduling.booking import Booking, book

PAGE = "/schedule/availability/"


def _hours_url(staff, name="availability-hours") -> str:
    return reverse(name, kwargs={"staff_id": staff.pk})


def _week(prefix: str, days=range(5), start="09:00", end="17:00", location="") -> dict:
    data = {}
    for day in range(7):
        on = day in days
        data[f"{prefix}-start_{day}"] = start if on else ""
        data[f"{prefix}-end_{day}"] = end if on else ""
        data[f"{prefix}-location_{day}"] = location if on else ""
    return data


def test_every_member_of_staff_sees_the_page_only_the_admin_gets_the_forms(world, client_as):
    WorkingHours.objects.create(staff=world.pat, weekday=0, start=time(9), end=time(13))
    for persona in ("alice", "pat", "fran"):
        response = client_as(persona).get(f"{PAGE}?edit={world.pat.pk}")
        assert response.status_code == 200, persona
        people = {row["staff"]: row for row in response.context["people"]}
        assert set(people) == {world.alice, world.pat}  # those who treat
        assert [h["day"] for h in people[world.pat]["hours"]] == ["Monday"]
        assert ("hours_form" in people[world.pat]) == (persona == "alice")
        assert ("room_form" in response.context) == (persona == "alice")
    closed = client_as("alice").get(PAGE).context["people"]  # one form at a time, on asking
    assert not any("hours_form" in row for row in closed)
    pat_view = client_as("pat").get(PAGE).context["people"]
    assert [("off_form" in row) for row in pat_view] == [False, True]  # alice, pat: own only
    # The admin opens one time-off form at a time too, from a link.
    admin_page = client_as("alice").get(PAGE)
    assert not any("off_form" in row for row in admin_page.context["people"])
    assert f'href="?off={world.pat.pk}#staff-{world.pat.pk}">Add time off for' in admin_page.text
    asked = client_as("alice").get(PAGE, {"off": world.pat.pk}).context["people"]
    assert [("off_form" in row, row.get("off_open")) for row in asked] == [
        (False, None),
        (True, True),
    ]
    other = client_as("oscar").get(PAGE)
    assert [row["staff"] for row in other.context["people"]] == [world.oscar]
    assert client_as("nobody").get(PAGE).status_code == 403
    assert "/accounts/login/" in client_as("anonymous").get(PAGE)["Location"]


def test_the_admin_sets_weekly_hours(world, client_as):
    location = world.northgate.locations.get()
    data = _week(f"hours-{world.pat.pk}", days=(0, 2, 4), location=str(location.pk))
    response = client_as("alice").post(_hours_url(world.pat), data)
    assert response.status_code == 302
    rows = list(world.pat.working_hours.order_by("weekday"))
    assert [(r.weekday, r.start, r.end, r.location) for r in rows] == [
        (d, time(9), time(17), location) for d in (0, 2, 4)
    ]
    # A break: two windows on one day; the second must start after the first ends.
    prefix = f"hours-{world.pat.pk}"
    split = _week(prefix, days=(0,), end="12:30")
    split.update({f"{prefix}-start2_0": "13:30", f"{prefix}-end2_0": "17:00"})
    assert client_as("alice").post(_hours_url(world.pat), split).status_code == 302
    rows = world.pat.working_hours.order_by("start")
    assert [(r.start, r.end) for r in rows] == [(time(9), time(12, 30)), (time(13, 30), time(17))]
    split[f"{prefix}-start2_0"] = "12:00"
    overlap = client_as("alice").post(_hours_url(world.pat), split)
    assert overlap.status_code == 400
    form = next(r["hours_form"] for r in overlap.context["people"] if r["staff"] == world.pat)
    assert form.errors["start2_0"] == ["Monday: the second hours must start after the first end"]
    # Saving again replaces the week rather than adding to it.
    client_as("alice").post(_hours_url(world.pat), _week(f"hours-{world.pat.pk}", days=(1,)))
    assert list(world.pat.working_hours.values_list("weekday", flat=True)) == [1]
    assert AuditEvent.objects.filter(action="update", summary__startswith="working hours").exists()


def test_an_hours_error_names_the_day_and_saves_nothing(world, client_as):
    data = _week(f"hours-{world.pat.pk}", days=(0, 1))
    data[f"hours-{world.pat.pk}-end_1"] = "08:00"
    data[f"hours-{world.pat.pk}-end_0"] = ""
    response = client_as("alice").post(_hours_url(world.pat), data)
    assert response.status_code == 400
    form = next(r["hours_form"] for r in response.context["people"] if r["staff"] == world.pat)
    assert form.errors["end_1"] == ["Tuesday: the end must be after the start"]
    assert "Monday: give both a start and an end" in form.errors["end_0"][0]
    summary = response.context["error_summary"]
    assert {item["id"] for item in summary} == {
        f"id_hours-{world.pat.pk}-end_0",
        f"id_hours-{world.pat.pk}-end_1",
    }
    assert not WorkingHours.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("pat", 403), ("fran", 403), ("oscar", 404)])
def test_only_the_admin_changes_hours(world, client_as, persona, status):
    data = _week(f"hours-{world.pat.pk}")
    assert client_as(persona).post(_hours_url(world.pat), data).status_code == status
    assert client_as("alice").get(_hours_url(world.pat)).status_code == 405
    assert not WorkingHours.objects.exists()


def _off(staff, start, end, reason="Conference") -> dict:
    prefix = f"off-{staff.pk}"
    fmt = "%Y-%m-%dT%H:%M"
    return {f"{prefix}-start": start.strftime(fmt), f"{prefix}-end": end.strftime(fmt),
            f"{prefix}-reason": reason}  # fmt: skip


def test_a_practitioner_adds_and_removes_their_own_time_off_only(world, client_as):
    start = timezone.localtime() + timedelta(days=3)
    url = _hours_url(world.pat, "availability-timeoff")
    response = client_as("pat").post(url, _off(world.pat, start, start + timedelta(days=2)))
    assert response.status_code == 302
    off = TimeOff.objects.get(staff=world.pat)
    assert off.reason == "Conference" and off.end - off.start == timedelta(days=2)

    alices = _hours_url(world.alice, "availability-timeoff")
    data = _off(world.alice, start, start + timedelta(hours=1))
    assert client_as("pat").post(alices, data).status_code == 403
    assert client_as("fran").post(url, _off(world.pat, start, start)).status_code == 403
    assert client_as("oscar").post(url, {"delete": off.pk}).status_code == 404
    assert client_as("alice").post(alices, data).status_code == 302  # the admin may

    backwards = client_as("pat").post(url, _off(world.pat, start, start - timedelta(hours=1)))
    assert backwards.status_code == 400
    form = next(r["off_form"] for r in backwards.context["people"] if r["staff"] == world.pat)
    assert form.errors["end"] == ["must be after the start"]

    assert client_as("pat").post(url, {"delete": off.pk}).status_code == 302
    assert not TimeOff.objects.filter(staff=world.pat).exists()


def test_the_admin_adds_rooms_and_devices_and_a_used_one_stays(world, client_as):
    location = world.northgate.locations.get()
    alice = client_as("alice")
    rooms_url, devices_url = reverse("availability-rooms"), reverse("availability-equipment")
    data = {"room-name": "Treatment 1", "room-location": str(location.pk)}
    assert alice.post(rooms_url, data).status_code == 302
    data = {"equipment-name": "Pen A", "equipment-device": "automated_pen"}
    assert alice.post(devices_url, data).status_code == 302
    room, pen = Room.objects.get(), Equipment.objects.get()
    assert (room.clinic, room.location, pen.clinic) == (world.northgate, location, world.northgate)

    bad = alice.post(devices_url, {"equipment-name": "Mystery", "equipment-device": "laser"})
    assert bad.status_code == 400
    assert "device" in bad.context["equipment_form"].errors

    for persona, status in (("pat", 403), ("fran", 403), ("oscar", 403)):
        assert client_as(persona).post(rooms_url, {"delete": room.pk}).status_code == status
    start = timezone.now() + timedelta(days=2)
    book(world.nora, Booking(start, start + timedelta(hours=1), world.pat, room=room))
    response = alice.post(rooms_url, {"delete": room.pk}, follow=True)
    assert "has appointments, so it stays" in response.content.decode()
    assert alice.post(devices_url, {"delete": pen.pk}).status_code == 302
    assert Room.objects.filter(pk=room.pk).exists() and not Equipment.objects.exists()


def test_the_calendar_reads_hours_time_off_and_bookings_inside_the_window_only(world):
    zone = availability.clinic_zone()
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    location = world.northgate.locations.get()
    WorkingHours.objects.create(staff=world.pat, weekday=0, start=time(9), end=time(17))
    pen = Equipment.objects.create(clinic=world.northgate, name="Pen A", device="automated_pen")

    def at(day, hour):
        return datetime.combine(day, time(hour), tzinfo=zone)

    # Alice has the only pen at 10:00; pat is off from 14:00; a booking a year on is outside.
    book(world.rhys, Booking(at(monday, 10), at(monday, 11), world.alice, equipment=pen))
    TimeOff.objects.create(staff=world.pat, start=at(monday, 14), end=at(monday, 18))
    later = monday + timedelta(days=364)
    book(world.nora, Booking(at(later, 10), at(later, 11), world.pat, location=location))

    start, end = availability.window_for(monday, monday + timedelta(days=6))
    calendar = availability.build([world.pat], start, end, equipment=[pen])

    who = availability.resource(world.pat)
    device = availability.resource(pen)
    assert calendar.busy.size == 1  # only the pen's booking this week
    assert calendar.is_free(Slot(at(monday, 10), at(monday, 11), who))  # pat is free...
    assert not calendar.is_free(Slot(at(monday, 10), at(monday, 11), who, device=device))
    assert (
        "device Pen A is busy"
        in calendar.problems(Slot(at(monday, 10), at(monday, 11), who, device=device))[0]
    )
    assert not calendar.is_free(Slot(at(monday, 15), at(monday, 16), who))  # time off
    assert not calendar.is_free(Slot(at(monday, 17), at(monday, 18), who))  # after hours
    tuesday = monday + timedelta(days=1)  # not a working day
    problems = calendar.problems(Slot(at(tuesday, 10), at(tuesday, 11), who))
    assert problems == ["outside practitioner Pat Practitioner's working hours"]


# The scheduling pages in the shape of tests/web/test_authorisation_matrix.py's MATRIX:
# name -> (method, which Northgate record fills the URL, personas allowed).
CLINIC_STAFF = {"alice", "pat", "fran"}
SCHEDULING_MATRIX = {
    "availability": ("GET", None, {"alice", "pat", "fran", "oscar"}),
    "availability-hours": ("POST", "staff", {"alice"}),
    "availability-timeoff": ("POST", "staff", {"alice", "pat"}),
    "availability-rooms": ("POST", None, {"alice"}),
    "availability-equipment": ("POST", None, {"alice"}),
    "series-propose": ("GET", "plan", CLINIC_STAFF),
    "appointment-reschedule": ("GET", "appointment", CLINIC_STAFF),
    "appointment-cancel": ("POST", "appointment", CLINIC_STAFF),
    "recall-worklist": ("GET", None, {"alice", "pat", "fran", "oscar"}),
    "recall-book": ("POST", "patient", CLINIC_STAFF),
    "recall-patient": ("GET", "patient", CLINIC_STAFF),
    "recall-contact": ("POST", "patient", CLINIC_STAFF),
}
KWARGS = {"staff": "staff_id", "plan": "plan_id", "patient": "patient_id", "appointment": "pk"}


def _outcome(response) -> str:
    if response.status_code >= 500:
        return f"error {response.status_code}"
    location = response.get("Location", "")
    if response.status_code in (302, 303) and "/accounts/login/" in location:
        return "login"
    if response.status_code in (401, 403, 404, 405):
        return str(response.status_code)
    return "allowed"


@pytest.fixture
def records(world, settings, tmp_path):
    from tests.web.full_world import journey

    settings.PHOTO_ROOT = tmp_path / "photos"
    made = journey(world.nora, world.pat)
    journey(world.rhys, world.oscar)
    return {**made, "patient": world.nora, "staff": world.pat}


@pytest.mark.parametrize("name", sorted(SCHEDULING_MATRIX))
def test_who_may_use_each_scheduling_page(name, records, client_as):
    from django.db import transaction

    method, record, allowed = SCHEDULING_MATRIX[name]
    kwargs = {KWARGS[record]: records[record].pk} if record else {}
    url = reverse(name, kwargs=kwargs)
    seen = {}
    for persona in ("anonymous", "nobody", "fran", "pat", "alice", "oscar"):
        client = client_as(persona)
        with transaction.atomic():  # each request rolled back: one persona's POST changes nothing
            response = client.post(url) if method == "POST" else client.get(url)
            transaction.set_rollback(True)
        seen[persona] = _outcome(response)
    assert {p for p, o in seen.items() if o == "allowed"} == allowed, seen
    for persona, outcome in seen.items():
        if persona in allowed:
            continue
        expected = "login" if persona == "anonymous" else "403"
        if persona == "oscar" and record is not None:
            expected = "404"
        assert outcome == expected, (persona, seen)


def test_many_practitioners_are_shown_ten_at_a_time_with_the_one_being_edited(world, client_as):
    from django.contrib.auth import get_user_model

    from dermis.web.clinic.models import Role, StaffMember
    from dermis.web.clinic.scheduling.views.availability import PER_PAGE

    extra = [
        StaffMember.objects.create(
            user=get_user_model().objects.create(username=f"many-{k}"),
            clinic=world.northgate,
            role=Role.PRACTITIONER,
            display_name=f"Zed {k:02d}",
        )
        for k in range(PER_PAGE + 2)
    ]
    client = client_as("alice")
    first = client.get(PAGE)
    assert len(first.context["people"]) == PER_PAGE
    assert first.context["paging"]["of"] == len(extra) + 2  # and alice and pat
    second = client.get(PAGE, {"page": 2})
    names = {r["staff"] for r in first.context["people"]} | {
        r["staff"] for r in second.context["people"]
    }
    assert len(names) == len(extra) + 2
    last = extra[-1]  # sorted last: on the second page, whatever page was asked for
    editing = client.get(PAGE, {"edit": last.pk, "page": 1})
    assert editing.context["paging"]["page"] == 2
    assert any(r["staff"] == last and "hours_form" in r for r in editing.context["people"])
