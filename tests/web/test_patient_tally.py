"""The patient tally the database keeps (migration 0027) agrees with counting the rows after every
kind of write: registering, a bulk load, a move between clinics, a merge, an erasure, deletions;
and the patient list and the API's count from it when nothing narrows them, giving what counting
would."""

from __future__ import annotations

import importlib
from datetime import date
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient, PatientTally
from dermis.web.clinic.patients import services
from tests import factories
from tests.web.test_appointment_tally import _Editor

URL = "/api/v1/patients"
tally_migration = importlib.import_module("dermis.web.clinic.migrations.0027_patient_tally")


def counted() -> dict[int, int]:
    rows = Patient.objects.values("clinic_id").annotate(n=Count("pk")).order_by()
    return {r["clinic_id"]: r["n"] for r in rows}


def tallied() -> dict[int, int]:
    return {clinic: n for clinic, n in PatientTally.objects.values_list("clinic_id", "n") if n}


def test_every_kind_of_write_keeps_the_tally_equal_to_counting(world):
    start = counted()
    assert tallied() == start and start[world.northgate.pk] >= 1
    made = [factories.patient(world.pat, "Ada", f"Tally{i}") for i in range(4)]
    factories.patient(world.oscar, "Rio", "Elsewhere")
    assert tallied() == counted()
    assert tallied()[world.northgate.pk] == start[world.northgate.pk] + 4

    admin = Actor.of_staff(world.alice)
    services.merge_patients(admin, made[0], made[1])  # the merged-away record goes
    services.erase_patient(admin, made[2], confirm=f"erase patient {made[2].pk}")
    assert tallied() == counted()
    assert tallied()[world.northgate.pk] == start[world.northgate.pk] + 2

    # a raw update of the clinic, and of nothing that counts
    Patient.objects.filter(pk=made[3].pk).update(clinic=world.riverside)
    Patient.objects.filter(pk=made[0].pk).update(phone="+44 7700 900123")
    assert tallied() == counted()

    # a bulk load, in one statement, into both clinics
    Patient.objects.bulk_create(
        Patient(
            clinic=clinic, given_name="Bulk", family_name=f"Row{i}", date_of_birth=date(1990, 1, 1)
        )
        for i, clinic in enumerate([world.northgate] * 3 + [world.riverside] * 2)
    )
    assert tallied() == counted()

    # deletions: one, then many at once
    Patient.objects.filter(pk=made[3].pk).delete()
    Patient.objects.filter(given_name="Bulk").delete()
    assert tallied() == counted()


def test_the_migration_starts_the_tally_from_the_patients_there(world):
    factories.patient(world.pat, "Ada", "Before")
    expected = counted()
    tally_migration.backwards(None, _Editor())  # the triggers go
    PatientTally.objects.all().delete()
    assert tallied() == {}
    tally_migration.forwards(None, _Editor())
    assert tallied() == counted() == expected
    factories.patient(world.pat, "Ada", "After")  # and the triggers count again
    assert tallied()[world.northgate.pk] == expected[world.northgate.pk] + 1


def _counts(get) -> tuple[object, list[str]]:
    """The response, and the COUNT statements it made."""
    with CaptureQueriesContext(connection) as seen:
        response = get()
    assert response.status_code == 200
    return response, [q["sql"] for q in seen.captured_queries if "COUNT(" in q["sql"].upper()]


def test_the_list_and_the_api_count_from_the_tally_as_counting_would(world, client_as, api_as):
    for i in range(30):  # more than a page of the list (25)
        factories.patient(world.pat, "Page", f"Filler{i:02d}", born=date(1970, 1, 1 + i % 28))
    factories.patient(world.oscar, "Rio", "Elsewhere")  # another clinic's
    everyone = Patient.objects.filter(clinic=world.northgate).count()
    web, api = client_as("fran"), api_as("fran")
    for params, expected in [
        ({}, everyone),
        ({"q": "filler0"}, 10),
        ({"q": "Nobody"}, 0),
        ({"q": "1970-01-02"}, 2),
        ({"q": "filler"}, 30),
        ({"q": "filler", "limit": 10}, 30),
    ]:
        page, counts = _counts(lambda p=params: web.get(reverse("patient-list"), p))
        assert page.context["page"].paginator.count == expected, params
        body, api_counts = _counts(lambda p=params: api.get(f"{URL}?{urlencode(p)}"))
        assert body.json()["count"] == expected, params
        # Nothing narrows the list: the tally is read, the clinic's patients are not counted. A
        # search is counted only when its page is full: a page with room left tells how many.
        assert bool(counts) == (bool(params) and expected >= 25), (params, counts)
        assert bool(api_counts) == (bool(params) and expected >= params.get("limit", 50)), params
    last = web.get(reverse("patient-list"), {"page": 2}).context["page"]
    assert (last.number, len(last.object_list)) == (2, everyone - 25)
