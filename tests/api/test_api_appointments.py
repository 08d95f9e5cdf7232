"""Appointments over the API: booked through booking.book, 409 on a taken slot, date filters."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from dermis.web.clinic.models import Appointment, AuditEvent
from tests import factories

URL = "/api/v1/appointments"
NEXT_YEAR = timezone.localdate().year + 1
MAY_1, MAY_2 = f"{NEXT_YEAR}-05-01", f"{NEXT_YEAR}-05-02"
BST = "+01:00"


@pytest.fixture(autouse=True)
def hours(world):
    factories.working_hours(world.pat, days=range(7))


def _body(world, start=f"{MAY_1}T10:00:00{BST}", end=f"{MAY_1}T11:00:00{BST}", **extra):
    return {
        "patient_id": world.nora.pk,
        "practitioner_id": world.pat.pk,
        "start": start,
        "end": end,
        **extra,
    }


def test_front_desk_books_an_appointment(world, api_as):
    response = api_as("fran").post(URL, _body(world, kind="consultation", notes="Parking"))

    assert response.status_code == 201, response.content
    appointment = Appointment.objects.get(pk=response.json()["id"])
    assert (appointment.clinic, appointment.kind) == (world.northgate, "consultation")
    assert AuditEvent.objects.filter(object_type="Appointment", action="create").exists()


def test_a_taken_slot_is_a_409_problem_and_writes_nothing(world, api_as):
    client = api_as("fran")
    assert client.post(URL, _body(world)).status_code == 201

    clash = client.post(URL, _body(world, f"{MAY_1}T10:30:00{BST}", f"{MAY_1}T11:30:00{BST}"))

    assert clash.status_code == 409
    assert clash["Content-Type"] == "application/problem+json"
    assert clash.json()["type"] == "urn:dermis:problem:slot-taken"
    assert Appointment.objects.count() == 1


def test_times_without_an_offset_are_clinic_time(world, api_as):
    july = date(NEXT_YEAR, 7, 1).isoformat()
    response = api_as("fran").post(URL, _body(world, f"{july}T09:00:00", f"{july}T09:30:00"))

    assert response.json()["start"] == f"{july}T09:00:00+01:00"  # British Summer Time
    listed = api_as("fran").get(URL).json()["items"][0]
    assert listed["start"] == f"{july}T09:00:00+01:00"


def test_bad_references_name_the_field(world, api_as):
    client = api_as("fran")
    cases = {
        "body.patient_id": _body(world, patient_id=world.rhys.pk),
        "body.practitioner_id": _body(world, practitioner_id=world.fran.pk),
        "body.end": _body(world, end=f"{MAY_1}T09:00:00{BST}"),
        "body.room_id": _body(world, room_id=12345),
    }
    for field, body in cases.items():
        response = client.post(URL, body)
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["field"] == field
    assert not Appointment.objects.exists()


def test_list_filters_by_clinic_day_and_status(world, api_as):
    client = api_as("fran")
    client.post(URL, _body(world, f"{MAY_1}T10:00:00{BST}", f"{MAY_1}T11:00:00{BST}"))
    client.post(URL, _body(world, f"{MAY_2}T07:30:00{BST}", f"{MAY_2}T08:00:00{BST}"))

    may_first = client.get(URL, date_from=MAY_1, date_to=MAY_1).json()
    cancelled = client.get(URL, status="cancelled").json()

    assert may_first["count"] == 1
    assert cancelled["count"] == 0
    assert api_as("oscar").get(URL).json()["count"] == 0


def test_another_clinics_appointment_is_404(world, api_as):
    created = api_as("fran").post(URL, _body(world)).json()

    assert api_as("oscar").get(f"{URL}/{created['id']}").status_code == 404
    assert api_as("fran").get(f"{URL}/{created['id']}").json()["id"] == created["id"]


@pytest.mark.django_db(transaction=True)
def test_a_kept_count_is_counted_again_after_each_booking_or_cancellation(world, api_as):
    """Counts by date are kept by the clinic's schedule version (scheduling/versions.py): each
    change to the appointments gives the new count, in each clinic apart."""
    client = api_as("fran")
    client.post(URL, _body(world, f"{MAY_1}T10:00:00{BST}", f"{MAY_1}T11:00:00{BST}"))
    counts = [client.get(URL, date_from=MAY_1).json()["count"] for _ in range(2)]
    assert counts == [1, 1]
    made = client.post(URL, _body(world, f"{MAY_2}T10:00:00{BST}", f"{MAY_2}T11:00:00{BST}"))
    assert client.get(URL, date_from=MAY_1).json()["count"] == 2
    assert api_as("oscar").get(URL, date_from=MAY_1).json()["count"] == 0
    cancel = client.post(f"{URL}/{made.json()['id']}/cancel", {"reason": "unwell"})
    assert cancel.status_code == 200, cancel.content
    assert client.get(URL, date_from=MAY_1, status="booked").json()["count"] == 1
    assert client.get(URL, date_from=MAY_1).json()["count"] == 2  # cancelled ones are listed
