"""A FHIR client nobody here wrote (fhirpy) against a live server, and every resource type
served checked by @medplum/core's R4 validator (profiles and invariants) with zero errors."""

from __future__ import annotations

import pytest
import requests
from fhirpy import SyncFHIRClient

from dermis.web.fhir.rest.registry import KINDS
from tests.interop import medplum

pytestmark = [pytest.mark.slow]


@pytest.fixture
def fhir(live_server, record, token_for):
    def client(version: str = "R5") -> SyncFHIRClient:
        return SyncFHIRClient(
            f"{live_server.url}/fhir/{version}",
            authorization=f"Bearer {token_for('pat')}",
        )

    return client


@pytest.mark.parametrize("version", ["R5", "R4"])
def test_fhirpy_reads_searches_and_gets_everything(fhir, record, world, version):
    client = fhir(version)
    nora = client.reference("Patient", str(world.nora.pk)).to_resource()
    assert nora["birthDate"] == world.nora.date_of_birth.isoformat()
    assert nora["name"][0]["family"] == world.nora.family_name

    found = client.resources("Patient").search(name=world.nora.given_name).fetch_all()
    assert [p.id for p in found] == [str(world.nora.pk)]

    appointments = client.resources("Appointment").search(patient=nora.reference).fetch_all()
    assert [a.id for a in appointments] == [str(record.appointment.pk)]
    practitioner = appointments[0]["participant"][1]["actor"]
    assert client.reference(reference=practitioner["reference"]).to_resource().id == str(
        world.pat.pk
    )

    procedures = (
        client.resources("Procedure")
        .search(patient=nora.reference, date__ge=record.session.performed_at.date().isoformat())
        .fetch_all()
    )
    assert str(record.session.pk) in {p.id for p in procedures}
    assert len(procedures) == 1 + record.session.areas.count()

    everything = client.execute(f"Patient/{world.nora.pk}/$everything", method="get")
    assert everything["resourceType"] == "Bundle"
    types = {e["resource"]["resourceType"] for e in everything["entry"]}
    assert types == set(KINDS)


def test_fhirpy_follows_paging_links(fhir, world):
    from tests import factories

    for i in range(5):
        factories.patient(world.alice, given=f"Paged{i}", family="Fhirpy")
    client = fhir()
    found = client.resources("Patient").search(name="fhirpy").limit(2).fetch_all()
    assert sorted(p["name"][0]["given"][0] for p in found) == [f"Paged{i}" for i in range(5)]


def test_every_served_resource_is_valid_r4(live_server, record, world, token_for):
    """The R4 endpoint: every type, searchsets, the CapabilityStatement and an
    OperationOutcome, through @medplum/core's validator: zero errors."""
    headers = {"Authorization": f"Bearer {token_for('pat')}"}
    base = f"{live_server.url}/fhir/R4"
    everything = requests.get(f"{base}/Patient/{world.nora.pk}/$everything", headers=headers)
    resources = [e["resource"] for e in everything.json()["entry"]]
    assert {r["resourceType"] for r in resources} == set(KINDS)
    resources.append(everything.json())
    resources.append(requests.get(f"{base}/metadata").json())
    resources.append(requests.get(f"{base}/Procedure?_count=1", headers=headers).json())
    resources.append(requests.get(f"{base}/Patient/0", headers=headers).json())
    assert resources[-1]["resourceType"] == "OperationOutcome"
    results = medplum.validate(resources)
    assert medplum.errors(results) == []
    assert len(results) == len(resources)


def test_the_validator_does_find_errors():
    """The check above can fail: an R5 Procedure sent as R4 is rejected."""
    bad = {"resourceType": "Procedure", "id": "1", "status": "completed",
           "subject": {"reference": "Patient/1"}, "occurrenceDateTime": "2026-01-01"}  # fmt: skip
    found = medplum.errors(medplum.validate([bad]))
    assert found and "occurrenceDateTime" in found[0]
