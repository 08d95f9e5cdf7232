"""Imported appointments plan reminders as booked ones do, and a re-import that cancels or
restores one cancels or plans them again."""

from __future__ import annotations

from datetime import timedelta

from dermis.web.clinic.models import Appointment, Reminder
from dermis.web.fhir import codes
from tests import factories

URL = "/api/v1/fhir/import"
IVY = "urn:uuid:7d1c2a8e-1f3b-4c5d-9e6f-0a1b2c3d4e5f"


def _bundle(world, start, status="booked") -> dict:
    staff = {"system": codes.identifier_system("northgate", "staff"), "value": str(world.pat.pk)}
    end = start + timedelta(hours=1)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": IVY,
             "resource": {"resourceType": "Patient",
                          "identifier": [{"system": "urn:other:mrn", "value": "R-1"}],
                          "name": [{"family": "Reed", "given": ["Ivy"]}],
                          "birthDate": "1990-01-02",
                          "telecom": [{"system": "email", "value": "ivy@example.org"}]}},
            {"resource": {"resourceType": "Appointment",
                          "identifier": [{"system": "urn:other:appt", "value": "RA-1"}],
                          "appointmentType": {"coding": [
                              {"system": codes.system("appointment-kind"), "code": "consultation"}
                          ]},
                          "status": status, "start": start.isoformat(), "end": end.isoformat(),
                          "participant": [
                              {"actor": {"reference": IVY},
                               "status": "accepted"},
                              {"actor": {"type": "Practitioner", "identifier": staff},
                               "status": "accepted"}]}},
        ],
    }  # fmt: skip


def _plan(appointment) -> set[tuple[str, str, str]]:
    rows = Reminder.objects.filter(appointment=appointment)
    return {(r.kind, r.channel, r.status) for r in rows if not r.key.startswith("confirm")}


def test_an_imported_appointment_plans_the_reminders_a_booking_does(world, api_as):
    factories.working_hours(world.pat)
    start = factories.next_weekday_at(10, days_ahead=9)
    alice = api_as("alice")
    response = alice.post(URL, _bundle(world, start))
    assert response.status_code == 200, response.content
    imported = Appointment.objects.get(pk=response.json()["created"]["Appointment"][0])
    booked = factories.appointment(
        world.pat, imported.patient, start + timedelta(days=1), kind=imported.kind
    )
    assert _plan(imported)
    assert {k[0] for k in _plan(imported)} == {k[0] for k in _plan(booked)}
    assert all(status == "pending" for _, _, status in _plan(imported))


def test_a_reimport_that_cancels_or_restores_replans_the_reminders(world, api_as):
    factories.working_hours(world.pat)
    start = factories.next_weekday_at(10, days_ahead=9)
    alice = api_as("alice")
    alice.post(URL, _bundle(world, start))
    appointment = Appointment.objects.get()
    planned = _plan(appointment)

    assert alice.post(URL, _bundle(world, start, "cancelled")).status_code == 200
    assert {status for _, _, status in _plan(appointment)} == {"cancelled"}

    assert alice.post(URL, _bundle(world, start, "booked")).status_code == 200
    assert _plan(appointment) == planned
