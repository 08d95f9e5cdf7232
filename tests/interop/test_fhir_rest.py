"""The FHIR REST endpoint in process: reads, searches, paging, errors, scoping and audit."""

from __future__ import annotations

import pytest

from dermis.web.clinic.models import AuditEvent
from dermis.web.fhir.rest.registry import KINDS

FHIR = "/fhir/R5"


def _get(client, path, **query):
    response = client.get(f"{FHIR}/{path}", **query)
    assert response["Content-Type"].startswith("application/fhir+json"), response.content
    return response


def _ids(bundle) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def test_metadata_lists_exactly_what_is_served(client):
    response = client.get(f"{FHIR}/metadata")
    assert response.status_code == 200
    body = response.json()
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "5.0.0"
    served = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert set(served) == set(KINDS)
    patient = {p["name"] for p in served["Patient"]["searchParam"]}
    assert {"identifier", "name", "birthdate", "_id", "_count"} <= patient
    appointment = {p["name"] for p in served["Appointment"]["searchParam"]}
    assert {"patient", "date", "status"} <= appointment
    assert served["Patient"]["operation"][0]["name"] == "everything"
    assert client.get("/fhir/R4/metadata").json()["fhirVersion"] == "4.0.1"


def test_read_each_type_of_noras_record(api_as, record, world):
    pat = api_as("pat")
    paths = {
        "Patient": world.nora.pk,
        "Practitioner": world.pat.pk,
        "PractitionerRole": world.pat.pk,
        "Organization": world.northgate.pk,
        "Appointment": record.appointment.pk,
        "CarePlan": record.plan.pk,
        "ServiceRequest": f"plan-{record.plan.pk}-0-0",
        "Procedure": record.session.pk,
        "Observation": f"grade-{record.grade.pk}",
        "Consent": record.consent.pk,
        "DocumentReference": record.photo.pk,
        "Communication": record.reminder.pk,
    }
    assert set(paths) == set(KINDS)
    for type_, id_ in paths.items():
        response = _get(pat.client, f"{type_}/{id_}", headers=pat.headers)
        assert response.status_code == 200, (type_, response.content)
        body = response.json()
        assert (body["resourceType"], body["id"]) == (type_, str(id_))
    area = record.session.areas.first().area.replace("_", "-")
    part = _get(pat.client, f"Procedure/{record.session.pk}-{area}", headers=pat.headers).json()
    assert part["partOf"] == [{"reference": f"Procedure/{record.session.pk}"}]


def test_references_are_relative_and_resolve(api_as, record, world):
    pat = api_as("pat")
    body = _get(pat.client, f"Appointment/{record.appointment.pk}", headers=pat.headers).json()
    refs = [p["actor"]["reference"] for p in body["participant"]]
    assert refs == [f"Patient/{world.nora.pk}", f"PractitionerRole/{world.pat.pk}"]
    for ref in refs:
        assert _get(pat.client, ref, headers=pat.headers).status_code == 200


def test_patient_search_by_identifier_name_and_birthdate(api_as, world):
    pat = api_as("pat")
    nora = world.nora
    system = f"https://dermis.invalid/fhir/clinic/northgate/patient|{nora.pk}"
    for query in (
        {"identifier": system},
        {"identifier": str(nora.pk)},
        {"name": nora.family_name[:3].lower()},
        {"birthdate": nora.date_of_birth.isoformat()},
        {"birthdate": f"ge{nora.date_of_birth.year}"},
        {"birthdate": nora.date_of_birth.isoformat()[:7]},
    ):
        body = _get(pat.client, "Patient", data=query, headers=pat.headers).json()
        assert body["type"] == "searchset"
        assert _ids(body) == [str(nora.pk)], query
    other = {"identifier": f"urn:other|{nora.pk}"}
    assert _ids(_get(pat.client, "Patient", data=other, headers=pat.headers).json()) == []
    later = {"birthdate": f"gt{nora.date_of_birth.isoformat()}"}
    assert _ids(_get(pat.client, "Patient", data=later, headers=pat.headers).json()) == []


def test_another_clinics_records_are_never_found(api_as, record, world):
    oscar = api_as("oscar")
    read = _get(oscar.client, f"Patient/{world.nora.pk}", headers=oscar.headers)
    assert read.status_code == 404
    assert read.json()["issue"][0]["code"] == "not-found"
    found = _get(oscar.client, "Patient", headers=oscar.headers).json()
    assert _ids(found) == [str(world.rhys.pk)]
    query = {"patient": f"Patient/{world.nora.pk}"}
    assert _get(oscar.client, "Appointment", data=query, headers=oscar.headers).json()["total"] == 0


def test_appointment_search_by_patient_date_and_status(api_as, record, world):
    pat = api_as("pat")
    start = record.appointment.start
    query = {"patient": f"Patient/{world.nora.pk}", "date": start.date().isoformat()}
    body = _get(pat.client, "Appointment", data=query, headers=pat.headers).json()
    assert _ids(body) == [str(record.appointment.pk)]
    none = dict(query, status="cancelled")
    assert _get(pat.client, "Appointment", data=none, headers=pat.headers).json()["total"] == 0
    day_after = {"date": f"gt{start.date().isoformat()}", "patient": str(world.nora.pk)}
    assert _get(pat.client, "Appointment", data=day_after, headers=pat.headers).json()["total"] == 0


def test_procedure_and_observation_search(api_as, record, world):
    pat = api_as("pat")
    nora = f"Patient/{world.nora.pk}"
    body = _get(pat.client, "Procedure", data={"patient": nora}, headers=pat.headers).json()
    session_ids = {str(record.session.pk)}
    assert session_ids <= set(_ids(body))
    assert body["total"] == 1 + record.session.areas.count()
    day = record.session.performed_at.date().isoformat()
    dated = {"patient": nora, "date": f"lt{day}"}
    assert _get(pat.client, "Procedure", data=dated, headers=pat.headers).json()["total"] == 0
    grade = {"patient": nora, "code": record.grade.concern}
    body = _get(pat.client, "Observation", data=grade, headers=pat.headers).json()
    assert _ids(body) == [f"grade-{record.grade.pk}"]
    findings = _get(pat.client, "Observation", data={"patient": nora}, headers=pat.headers)
    assert any(i.startswith("finding-") for i in _ids(findings.json()))


def test_paging_links_walk_every_match_once(api_as, world):
    from tests import factories

    for i in range(4):
        factories.patient(world.alice, given=f"Page{i}", family="Walker")
    pat = api_as("pat")
    seen = []
    body = _get(pat.client, "Patient", data={"name": "walker", "_count": 3}, headers=pat.headers)
    body = body.json()
    assert body["total"] == 4
    while True:
        seen += _ids(body)
        nxt = [link["url"] for link in body["link"] if link["relation"] == "next"]
        if not nxt:
            break
        body = pat.client.get(nxt[0], headers=pat.headers).json()
    assert len(seen) == 4 and len(set(seen)) == 4


def test_everything_is_the_whole_record_with_relative_references(api_as, record, world):
    pat = api_as("pat")
    response = _get(pat.client, f"Patient/{world.nora.pk}/$everything", headers=pat.headers)
    body = response.json()
    types = {e["resource"]["resourceType"] for e in body["entry"]}
    assert types == set(KINDS)
    assert body["total"] == len(body["entry"])
    refs = {
        p["actor"]["reference"]
        for e in body["entry"]
        if e["resource"]["resourceType"] == "Appointment"
        for p in e["resource"]["participant"]
    }
    assert f"Patient/{world.nora.pk}" in refs
    event = AuditEvent.objects.filter(patient_id_ref=world.nora.pk).latest("pk")
    assert (event.action, event.summary) == ("export", "fhir: Patient $everything")


@pytest.mark.parametrize(
    ("path", "query", "status", "code"),
    [
        ("Patient", {"colour": "blue"}, 400, "not-supported"),
        ("Patient", {"birthdate": "yesterday"}, 400, "invalid"),
        ("Patient", {"birthdate": "xx2020"}, 400, "invalid"),
        ("Patient", {"_count": "-1"}, 400, "invalid"),
        ("Appointment", {"patient": "Practitioner/1"}, 400, "invalid"),
        ("Patient/999999", {}, 404, "not-found"),
        ("Medication", {}, 404, "not-supported"),
        ("Patient/1/$lastn", {}, 404, "not-supported"),
    ],
)
def test_errors_are_operation_outcomes(api_as, world, path, query, status, code):
    pat = api_as("pat")
    response = _get(pat.client, path, data=query, headers=pat.headers)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code
    assert body["issue"][0]["diagnostics"]


def test_no_token_bad_token_and_writes(client, api_as, world):
    response = _get(client, f"Patient/{world.nora.pk}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["issue"][0]["code"] == "login"
    bad = _get(client, "Patient", headers={"Authorization": "Bearer drm_nope"})
    assert bad.status_code == 401
    pat = api_as("pat")
    post = pat.client.post(f"{FHIR}/Patient", {}, headers=pat.headers)
    assert post.status_code == 405
    assert post.json()["resourceType"] == "OperationOutcome"
    assert "GET" in post["Allow"]
    assert _get(client, "../R3/metadata").status_code == 404


def test_reads_are_audited_without_patient_data(api_as, record, world):
    pat = api_as("pat")
    before = AuditEvent.objects.count()
    _get(pat.client, f"Procedure/{record.session.pk}", headers=pat.headers)
    _get(pat.client, "Observation", data={"patient": world.nora.pk}, headers=pat.headers)
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert [(e.action, e.patient_id_ref) for e in events] == [("view", world.nora.pk)] * 2
    assert events[0].summary == "fhir: read Procedure"
    assert all(world.nora.family_name not in e.summary for e in events)


def test_code_system_base_comes_from_the_setting(api_as, world, settings):
    settings.DERMIS_FHIR_BASE = "https://fhir.northgate.example/"
    pat = api_as("pat")
    body = _get(pat.client, f"Patient/{world.nora.pk}", headers=pat.headers).json()
    assert body["identifier"][0]["system"] == (
        "https://fhir.northgate.example/clinic/northgate/patient"
    )


def test_a_search_page_costs_the_same_queries_however_many_it_holds(api_as, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import factories

    factories.working_hours(world.pat)
    pat = api_as("pat")
    query = {"patient": world.nora.pk}
    # The token's first use is noted (once a minute at most): not part of the search's cost.
    _get(pat.client, "Appointment", data=query, headers=pat.headers)

    def cost() -> int:
        with CaptureQueriesContext(connection) as ctx:
            body = _get(pat.client, "Appointment", data=query, headers=pat.headers).json()
        return len(ctx.captured_queries), body["total"]

    for days in (1, 2):
        factories.appointment(world.pat, world.nora, factories.next_weekday_at(9, days))
    small, two = cost()
    for days in range(3, 9):
        factories.appointment(world.pat, world.nora, factories.next_weekday_at(9, days))
    large, eight = cost()
    assert (two, eight) == (2, 8)
    assert large == small


def test_a_patient_search_audits_every_patient_found_at_a_constant_cost(api_as, world):
    """A search page's view is audited with every patient it shows (one event listing them);
    2 or 6 of them cost the same queries (the event and its patients are written together)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import factories

    pat = api_as("pat")
    query = {"name": "walker"}
    _get(pat.client, "Patient", data=query, headers=pat.headers)  # the token's first use

    def cost() -> tuple[int, list[str]]:
        before = AuditEvent.objects.count()
        with CaptureQueriesContext(connection) as ctx:
            body = _get(pat.client, "Patient", data=query, headers=pat.headers).json()
        (event,) = AuditEvent.objects.order_by("pk")[before:]
        assert sorted(str(pk) for pk in event.patient_ids()) == sorted(_ids(body))
        saved = [q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
        return len(saved), _ids(body)

    for i in range(2):
        factories.patient(world.alice, given=f"Few{i}", family="Walker")
    small, two = cost()
    for i in range(4):
        factories.patient(world.alice, given=f"More{i}", family="Walker")
    large, six = cost()
    assert (len(two), len(six)) == (2, 6)
    assert large == small


def test_a_name_search_ignores_case_and_accents_and_matches_the_start_of_a_name(api_as, world):
    """FHIR string search: "lukas" finds Łukasiewicz, "ngu" finds Nguyễn; not the middle of one."""
    from tests import factories

    polish = factories.patient(world.alice, given="Zofia", family="Łukasiewicz")
    vietnamese = factories.patient(world.alice, given="Thi Mai", family="Nguyễn")
    pat = api_as("pat")

    def found(name: str) -> set[str]:
        return set(
            _ids(_get(pat.client, "Patient", data={"name": name}, headers=pat.headers).json())
        )

    assert found("lukas") == {str(polish.pk)}
    assert found("NGU") == {str(vietnamese.pk)}
    assert found("mai") == {str(vietnamese.pk)}  # the second of her given names
    assert found("kasiewicz") == set()


def test_every_patient_is_totalled_from_the_clinics_tally_and_a_search_is_counted(api_as, world):
    """`Patient` with no search parameter pages through every patient of the clinic: its total is
    the clinic's tally (no COUNT over the patients); a search's total counts what it found, unless
    its page has room left."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dermis.web.clinic.models import Patient
    from tests import factories

    for i in range(3):
        factories.patient(world.alice, given=f"Tally{i}", family="Walker")
    pat = api_as("pat")
    mine = Patient.objects.filter(clinic=world.northgate).count()

    def total(**query) -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as ctx:
            body = _get(pat.client, "Patient", data=query, headers=pat.headers).json()
        counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
        return body["total"], counts

    everyone, counted = total(_count=2)
    assert (everyone, counted) == (mine, [])
    again, counted = total(_count=2, _offset=2, _format="json")
    assert (again, counted) == (mine, [])
    found, counted = total(name="walker", _count=2)  # a full page: the rest are counted
    assert found == 3 and len(counted) == 1
    # A page with room left holds the last of what was found: its total needs no count.
    found, counted = total(name="walker")
    assert (found, counted) == (3, [])
    found, counted = total(name="walker", _count=2, _offset=2)
    assert (found, counted) == (3, [])
