"""FHIR import of Patient and Appointment bundles: idempotent, all-or-nothing, errors listed."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from dermis.web.api.models import ExternalId
from dermis.web.clinic.models import Appointment, AuditEvent, Patient
from dermis.web.fhir import codes
from tests import factories

URL = "/api/v1/fhir/import"
OTHER = "https://other-system.example/patients"


def _bundle(world, *, given="Iris", start="2025-09-01T10:00:00+01:00") -> dict:
    staff = {"system": codes.identifier_system("northgate", "staff"), "value": str(world.pat.pk)}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:2b9f1b7e-9d1f-4a8e-8c53-0d1f2e3a4b5c",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": OTHER, "value": "P-77"}],
                    "name": [{"family": "Wren", "given": [given]}],
                    "gender": "female",
                    "birthDate": "1988-04-02",
                    "telecom": [{"system": "email", "value": "iris@example.org"}],
                    "address": [{"line": ["3 Park Row"], "city": "Leeds", "postalCode": "LS1 5HD"}],
                },
            },
            {
                "resource": {
                    "resourceType": "Appointment",
                    "identifier": [{"system": f"{OTHER}/appts", "value": "A-1"}],
                    "status": "booked",
                    "start": start,
                    "end": start.replace("T10:", "T11:"),
                    "participant": [
                        {"actor": {"reference": "urn:uuid:2b9f1b7e-9d1f-4a8e-8c53-0d1f2e3a4b5c"},
                         "status": "accepted"},
                        {"actor": {"type": "Practitioner", "identifier": staff},
                         "status": "accepted"},
                    ],
                }
            },
        ],
    }  # fmt: skip


def _counts():
    return Patient.objects.count(), Appointment.objects.count(), ExternalId.objects.count()


def test_import_creates_patient_and_appointment(world, api_as):
    response = api_as("alice").post(URL, _bundle(world))

    assert response.status_code == 200, response.content
    body = response.json()
    patient = Patient.objects.get(pk=body["created"]["Patient"][0])
    assert (patient.clinic, patient.given_name, patient.email) == (
        world.northgate,
        "Iris",
        "iris@example.org",
    )
    assert patient.address == "3 Park Row, Leeds, LS1 5HD"
    appointment = Appointment.objects.get(pk=body["created"]["Appointment"][0])
    assert (appointment.patient, appointment.practitioner) == (patient, world.pat)
    assert AuditEvent.objects.filter(patient_id_ref=patient.pk, action="create").exists()


def test_importing_twice_changes_nothing(world, api_as):
    client = api_as("alice")
    client.post(URL, _bundle(world))
    before = (_counts(), list(Patient.objects.values()), list(Appointment.objects.values()))

    again = client.post(URL, _bundle(world)).json()

    assert again["created"] == {} and again["updated"] == {}
    assert sorted(again["unchanged"]) == ["Appointment", "Patient"]
    after = (_counts(), list(Patient.objects.values()), list(Appointment.objects.values()))
    assert after == before


def test_a_changed_record_is_updated_in_place(world, api_as):
    client = api_as("alice")
    client.post(URL, _bundle(world))

    body = client.post(URL, _bundle(world, given="Isla", start="2025-09-02T10:00:00+01:00")).json()

    assert Patient.objects.filter(family_name="Wren").get().given_name == "Isla"
    assert Appointment.objects.get().start.day == 2
    assert sorted(body["updated"]) == ["Appointment", "Patient"]


def test_a_bad_bundle_lists_every_error_and_writes_nothing(world, api_as):
    bad = _bundle(world)
    patient, appointment = bad["entry"][0]["resource"], bad["entry"][1]["resource"]
    del patient["identifier"]
    patient["birthDate"] = "1988"
    appointment["status"] = "waitlist"
    before = _counts()

    response = api_as("alice").post(URL, bad)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {
        "body.entry[0].resource.identifier",
        "body.entry[0].resource.birthDate",
        "body.entry[1].resource.status",
    } <= fields
    assert _counts() == before


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["entry"][0]["resource"].update(resourceType="Observation"),
         "body.entry[0].resource.resourceType"),
        (lambda b: b["entry"][0]["resource"].update(birthDate="1988-13-40"),
         "body.entry[0].resource.birthDate"),
        (lambda b: b["entry"][1]["resource"]["participant"][1]["actor"]["identifier"].update(
            value="999999"), "body.entry[1].resource.participant[1].actor"),
        (lambda b: b.update(resourceType="Patient"), "body.resourceType"),
    ],
)  # fmt: skip
def test_each_kind_of_error_is_named(world, api_as, mutate, field):
    bad = _bundle(world)
    mutate(bad)

    response = api_as("alice").post(URL, bad)

    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert _counts() == (2, 0, 0)


def test_a_taken_slot_rolls_back_the_whole_import(world, api_as):
    factories.working_hours(world.pat)
    taken = factories.next_weekday_at(10, days_ahead=30)
    factories.appointment(world.pat, world.nora, taken + timedelta(minutes=30), minutes=30)
    bundle = _bundle(world, start=taken.isoformat())
    before = _counts()

    response = api_as("alice").post(URL, bundle)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.entry[1].resource.start"
    assert _counts() == before  # the patient in the same bundle was not kept either


def test_import_is_for_the_clinic_admin(world, api_as):
    assert api_as("pat").post(URL, _bundle(world)).status_code == 403
    assert api_as("fran").post(URL, _bundle(world)).status_code == 403


def test_another_clinics_staff_identifier_is_refused(world, api_as):
    bundle = copy.deepcopy(_bundle(world))
    actor = bundle["entry"][1]["resource"]["participant"][1]["actor"]
    actor["identifier"]["value"] = str(world.oscar.pk)

    response = api_as("alice").post(URL, bundle)

    assert response.status_code == 422
    assert _counts() == (2, 0, 0)


def test_the_same_identifier_twice_in_one_bundle_is_an_error(world, api_as):
    bundle = _bundle(world)
    twin = copy.deepcopy(bundle["entry"][0])
    twin["fullUrl"] = "urn:uuid:3c0a2c8f-0e2a-4b9f-9d64-1e2f3a4b5c6d"
    bundle["entry"].append(twin)

    response = api_as("alice").post(URL, bundle)

    assert response.status_code == 422
    assert {
        "field": "body.entry[2].resource.identifier",
        "message": "appears twice in the bundle",
    } in (response.json()["errors"])
    assert _counts() == (2, 0, 0)


def test_imported_identifiers_appear_in_the_fhir_and_subject_access_exports(world, api_as):
    body = api_as("alice").post(URL, _bundle(world)).json()
    pid = body["created"]["Patient"][0]
    appointment_id = body["created"]["Appointment"][0]

    bundle = api_as("pat").get(f"/api/v1/patients/{pid}/fhir").json()
    access = api_as("alice").get(f"/api/v1/patients/{pid}/subject-access").json()

    resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    assert {"system": OTHER, "value": "P-77"} in resources["Patient"]["identifier"]
    assert {"system": f"{OTHER}/appts", "value": "A-1"} in resources["Appointment"]["identifier"]
    imported = {
        (i["kind"], i["system"], i["value"], i["object_id"]) for i in access["imported_identifiers"]
    }
    assert imported == {
        ("patient", OTHER, "P-77", pid),
        ("appointment", f"{OTHER}/appts", "A-1", appointment_id),
    }
