"""Finding a patient however the name, phone or date of birth is typed: accents and case ignored,
phone numbers in national or international form with any spacing, dates of birth in the common
forms. The list page and the API's `?q=` share the one filter (parity in test_parity.py)."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient
from dermis.web.clinic.patients import normalise, services
from tests.personas import stored_patient


@pytest.fixture
def people(world):
    admin = Actor.of_staff(world.alice)
    return {
        "lukasiewicz": services.register_patient(
            admin, given_name="Jan", family_name="Łukasiewicz", date_of_birth=date(1988, 7, 14)
        ),
        "nguyen": services.register_patient(
            admin,
            given_name="Thị",
            family_name="Nguyễn",
            date_of_birth=date(1979, 2, 3),
            phone="07700 900999",
        ),
        "obrien": services.register_patient(
            admin,
            given_name="Zoë",
            family_name="O'Brien-Smith",
            date_of_birth=date(1990, 5, 1),
            phone="+44 (0)20 7946 0018",
        ),
    }


SEARCHES = {
    "lukasiewicz": ["lukasiewicz"],
    "LUKASIEWICZ": ["lukasiewicz"],
    "Łukasiewicz": ["lukasiewicz"],
    "jan łuk": ["lukasiewicz"],
    "Nguyen": ["nguyen"],
    "nguyễn thi": ["nguyen"],
    "zoe": ["obrien"],
    "obrien": ["obrien"],
    "o'brien": ["obrien"],
    "smith-jones": [],
    "brien-smith": ["obrien"],
    "+447700900999": ["nguyen"],
    "+44 7700 900999": ["nguyen"],
    "0044 7700 900 999": ["nguyen"],
    "07700900999": ["nguyen"],
    "07700 900999": ["nguyen"],
    "07700-900-999": ["nguyen"],
    "900 999": ["nguyen"],
    "020 7946 0018": ["obrien"],
    "+442079460018": ["obrien"],
    "14.07.1988": ["lukasiewicz"],
    "14/07/1988": ["lukasiewicz"],
    "1988-07-14": ["lukasiewicz"],
    "14 Jul 1988": ["lukasiewicz"],
    "14 july 1988": ["lukasiewicz"],
    "14-07-1988": ["lukasiewicz"],
    "15.07.1988": [],
}


def _found(response, people) -> list[str]:
    names = {p.pk: key for key, p in people.items()}
    return sorted(names[p.pk] for p in response.context["page"].object_list if p.pk in names)


@pytest.mark.parametrize("q", sorted(SEARCHES))
def test_the_list_finds_a_patient_however_it_is_typed(q, people, client_as):
    response = client_as("fran").get(reverse("patient-list"), {"q": q})
    assert response.status_code == 200
    assert _found(response, people) == SEARCHES[q]


@pytest.mark.parametrize("q", ["Nguyen", "+44 7700 900999", "14 Jul 1988", "lukasiewicz"])
def test_the_api_finds_the_same(q, people, api_as):
    items = api_as("fran").get("/api/v1/patients", q=q).json()["items"]
    names = {p.pk: key for key, p in people.items()}
    assert sorted(names[i["id"]] for i in items if i["id"] in names) == SEARCHES[q]


def test_another_clinics_patient_is_not_found_by_phone(world, people, client_as):
    other = Actor.of_staff(world.oscar)
    services.register_patient(
        other, given_name="Ola", family_name="Nowak", date_of_birth=date(1980, 1, 1),
        phone="07700 900999",
    )  # fmt: skip
    response = client_as("fran").get(reverse("patient-list"), {"q": "07700900999"})
    assert [p.given_name for p in response.context["page"].object_list] == ["Thị"]


def test_the_services_keep_the_normalised_columns(world, people):
    nguyen = people["nguyen"]
    assert (nguyen.search_name, nguyen.phone_normalised) == ("thi nguyen", "+447700900999")
    services.update_patient(
        Actor.of_staff(world.pat), nguyen, family_name="Trần", phone="+33 1 23 45 67 89"
    )
    nguyen.refresh_from_db()
    assert (nguyen.search_name, nguyen.phone_normalised) == ("thi tran", "+33123456789")


def test_a_clinic_abroad_reads_national_numbers_in_its_own_country(world, client_as):
    world.northgate.country = "FR"
    world.northgate.save()
    admin = Actor.of_staff(world.alice)
    anne = services.register_patient(
        admin, given_name="Anne", family_name="Roux", date_of_birth=date(1970, 1, 1),
        phone="01 23 45 67 89",
    )  # fmt: skip
    assert anne.phone_normalised == "+33123456789"
    response = client_as("fran").get(reverse("patient-list"), {"q": "+33 1 23 45 67 89"})
    assert [p.pk for p in response.context["page"].object_list] == [anne.pk]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07700 900999", "+447700900999"),
        ("+44 7700 900999", "+447700900999"),
        ("0044 7700 900999", "+447700900999"),
        ("(0)7700-900-999", "+447700900999"),
        ("12", "12"),
        ("ext. only", ""),
        ("", ""),
    ],
)
def test_a_phone_is_stored_in_e164_when_it_can_be(typed, stored):
    assert normalise.phone(typed, "GB") == stored


def test_names_fold_accents_case_and_punctuation():
    assert normalise.search_name("Zoë", "O'Brien-Smith") == "zoe obrien smith"
    assert normalise.search_name("Jan", "Łukasiewicz") == "jan lukasiewicz"
    assert normalise.fold("Straße  Øster") == "strasse oster"


def test_the_migration_fills_the_columns_of_existing_patients(world):
    stale = Patient.objects.filter(pk=world.nora.pk)
    stale.update(search_name="", phone_normalised="")
    migration = importlib.import_module("dermis.web.clinic.migrations.0017_patient_search")
    migration.fill_normalised(django_apps, None)  # a data step: it uses no schema editor
    assert stale.values_list("search_name", "phone_normalised").get() == (
        "nora quinn",
        "+447700900123",
    )


def test_a_fixture_patient_is_searchable(world):
    ada = stored_patient(
        clinic=world.northgate,
        given_name="Ádá",
        family_name="Byrön",
        date_of_birth=date(1990, 1, 1),
    )
    assert ada.search_name == "ada byron"


def _indexes(table: str) -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def test_the_normalised_columns_and_appointment_starts_are_indexed(db):
    patient = {tuple(c["columns"]) for c in _indexes("clinic_patient").values() if c["index"]}
    assert {("clinic_id", "search_name"), ("clinic_id", "phone_normalised")} <= patient
    appointment = {
        tuple(c["columns"]) for c in _indexes("clinic_appointment").values() if c["index"]
    }
    assert ("clinic_id", "start") in appointment


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_a_search_uses_the_trigram_indexes(people, world):
    """Names and short parts of numbers by trigrams; a number of seven digits or more by its runs
    of seven digits (migration 0032)."""
    from dermis.web.clinic.patients.filters import PatientFilter

    for q, index in (
        ("lukasiewicz", "clinic_patient_search_name_trgm"),
        ("900999", "clinic_patient_phone_trgm"),
        ("07700 900999", "clinic_patient_phone_grams"),
    ):
        found = PatientFilter(q=q).apply(Patient.objects.all())
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            sql, params = found.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan, plan
