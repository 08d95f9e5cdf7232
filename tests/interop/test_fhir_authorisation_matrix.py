"""The FHIR endpoint, every persona: the same rules as the API's matrix.

No token -> 401; nobody (no clinic) and a role without access -> 403; another clinic's record
-> 404 on a read and nothing found on a search. Records are Northgate's Nora's. A resource type
served without rows here fails `test_every_type_is_in_the_matrix`.
"""

from __future__ import annotations

import pytest

from dermis.web.fhir.rest.registry import KINDS

PERSONAS = ("anonymous", "nobody", "alice", "pat", "fran", "oscar")
ANY_STAFF = {"alice", "pat", "fran"}  # of Northgate; oscar is Riverside's
CLINICAL = {"alice", "pat"}

# type -> who may read Nora's records of that type (front desk: demographics and the diary).
TYPES = {
    "Patient": ANY_STAFF,
    "Practitioner": ANY_STAFF,
    "PractitionerRole": ANY_STAFF,
    "Organization": ANY_STAFF,
    "Appointment": ANY_STAFF,
    "CarePlan": CLINICAL,
    "ServiceRequest": CLINICAL,
    "Procedure": CLINICAL,
    "Observation": CLINICAL,
    "Consent": CLINICAL,
    "DocumentReference": CLINICAL,
    "Communication": CLINICAL,
}
OPERATIONS = [("read", t) for t in TYPES] + [("search", t) for t in TYPES]
OPERATIONS += [("everything", "Patient"), ("metadata", "")]


def test_every_type_is_in_the_matrix():
    assert set(TYPES) == set(KINDS)


def _ids(world, record) -> dict[str, str]:
    return {
        "Patient": str(world.nora.pk),
        "Practitioner": str(world.pat.pk),
        "PractitionerRole": str(world.pat.pk),
        "Organization": str(world.northgate.pk),
        "Appointment": str(record.appointment.pk),
        "CarePlan": str(record.plan.pk),
        "ServiceRequest": f"plan-{record.plan.pk}-0-0",
        "Procedure": str(record.session.pk),
        "Observation": f"grade-{record.grade.pk}",
        "Consent": str(record.consent.pk),
        "DocumentReference": str(record.photo.pk),
        "Communication": str(record.reminder.pk),
    }


def _search_query(type_: str, world) -> dict:
    if type_ in {"Patient", "Practitioner", "PractitionerRole", "Organization"}:
        return {}
    return {"patient": f"Patient/{world.nora.pk}"}


def _expected(operation: str, type_: str, persona: str) -> int:
    if operation == "metadata":
        return 200
    if persona == "anonymous":
        return 401
    allowed = CLINICAL if operation == "everything" else TYPES[type_]
    if persona == "nobody" or (persona == "fran" and persona not in allowed):
        return 403
    if persona == "oscar":
        return 200 if operation == "search" else 404
    return 200


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op[0]} {op[1]}".strip())
def test_who_may_use_each_interaction(operation, world, record, api_as):
    kind, type_ = operation
    ids = _ids(world, record)
    path, query = {
        "read": (f"/fhir/R5/{type_}/{ids.get(type_)}", {}),
        "search": (f"/fhir/R5/{type_}", _search_query(type_, world)),
        "everything": (f"/fhir/R5/Patient/{world.nora.pk}/$everything", {}),
        "metadata": ("/fhir/R5/metadata", {}),
    }[kind]
    seen, wanted = {}, {}
    for persona in PERSONAS:
        client = api_as(persona)
        response = client.client.get(path, query, headers=client.headers)
        assert response["Content-Type"].startswith("application/fhir+json")
        seen[persona] = response.status_code
        wanted[persona] = _expected(kind, type_, persona)
        if kind == "search" and response.status_code == 200:
            body = response.json()
            found = {e["resource"]["id"] for e in body.get("entry", [])}
            if persona == "oscar":
                assert ids[type_] not in found, "another clinic's record was found"
            else:
                assert ids[type_] in found
    assert seen == wanted
