"""Appointments over the API: booked through booking.book, 409 on a taken slot, date filters."""

from __future__ import annotations

from dermis.web.clinic.models import Appointment, AuditEvent

URL = "/api/v1/appointments"


def _body(world, start="2025-05-01T10:00:00+01:00", end="2025-05-01T11:00:00+01:00", **extra):
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

    clash = client.post(URL, _body(world, "2025-05-01T10:30:00+01:00", "2025-05-01T11:30:00+01:00"))

    assert clash.status_code == 409
    assert clash["Content-Type"] == "application/problem+json"
    assert clash.json()["type"] == "urn:dermis:problem:slot-taken"
    assert Appointment.objects.count() == 1


def test_times_without_an_offset_are_clinic_time(world, api_as):
    response = api_as("fran").post(URL, _body(world, "2025-07-01T09:00:00", "2025-07-01T09:30:00"))

    assert response.json()["start"] == "2025-07-01T09:00:00+01:00"  # British Summer Time
    listed = api_as("fran").get(URL).json()["items"][0]
    assert listed["start"] == "2025-07-01T09:00:00+01:00"


def test_bad_references_name_the_field(world, api_as):
    client = api_as("fran")
    cases = {
        "body.patient_id": _body(world, patient_id=world.rhys.pk),
        "body.practitioner_id": _body(world, practitioner_id=world.fran.pk),
        "body.end": _body(world, end="2025-05-01T09:00:00+01:00"),
        "body.room_id": _body(world, room_id=12345),
    }
    for field, body in cases.items():
        response = client.post(URL, body)
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["field"] == field
    assert not Appointment.objects.exists()


def test_list_filters_by_clinic_day_and_status(world, api_as):
    client = api_as("fran")
    client.post(URL, _body(world, "2025-05-01T10:00:00+01:00", "2025-05-01T11:00:00+01:00"))
    client.post(URL, _body(world, "2025-05-02T00:30:00+01:00", "2025-05-02T01:00:00+01:00"))

    may_first = client.get(URL, date_from="2025-05-01", date_to="2025-05-01").json()
    cancelled = client.get(URL, status="cancelled").json()

    assert may_first["count"] == 1
    assert cancelled["count"] == 0
    assert api_as("oscar").get(URL).json()["count"] == 0


def test_another_clinics_appointment_is_404(world, api_as):
    created = api_as("fran").post(URL, _body(world)).json()

    assert api_as("oscar").get(f"{URL}/{created['id']}").status_code == 404
    assert api_as("fran").get(f"{URL}/{created['id']}").json()["id"] == created["id"]
