"""A narrowed patient search is composed once for its shape (the kinds of its conditions) and
sent as text with its values, so the database plans it for what is searched for
(`patients.selectors.search`, `PreparedRows(planned_each_time=True)`): it finds what the ORM's
own query of the same filter finds, in the same order, page by page."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient
from dermis.web.clinic.patients import selectors
from dermis.web.clinic.patients.filters import PatientFilter
from dermis.web.clinic.prepared import Paged, PreparedRows
from tests import factories

ASKED = [
    PatientFilter(q="zed"),
    PatientFilter(q="Zéd 1"),
    PatientFilter(q="amy zed0"),
    PatientFilter(q="smith-jones"),
    PatientFilter(q="amy_"),  # a LIKE wildcard, searched for as itself
    PatientFilter(q="50%"),
    PatientFilter(q="mail.example"),
    PatientFilter(q="amy@mail.example"),
    PatientFilter(q="07700 900"),
    PatientFilter(q="+44 7700 900123"),
    PatientFilter(q="900 12"),
    PatientFilter(q="14/07/1988"),
    PatientFilter(q="zed", date_of_birth=date(1988, 7, 14)),
    PatientFilter(date_of_birth=date(1990, 1, 2)),
    PatientFilter(q="--"),  # punctuation alone narrows nothing
    PatientFilter(q="nobody-of-that-name"),
]


@pytest.fixture
def many(world):
    for i in range(14):
        factories.patient(
            world.fran, given="Amy" if i % 2 else "Bea", family=f"Zed{i}",
            born=date(1988, 7, 14) if i % 3 else date(1990, 1, 2),
            phone=f"07700 900{i:03d}", email=f"amy{i}@mail.example",
        )  # fmt: skip
    factories.patient(world.fran, given="Jo", family="Smith-Jones", born=date(1970, 1, 1))
    factories.patient(world.fran, given="Amy_", family="Percent 50%", born=date(1971, 1, 1))
    return Actor.of_staff(world.fran)


@pytest.mark.django_db
@pytest.mark.parametrize("asked", ASKED, ids=lambda f: f"{f.q!r}/{f.date_of_birth}")
def test_a_composed_search_finds_what_the_orms_query_finds(asked, many, world):
    orm = asked.apply(
        Patient.objects.filter(clinic=world.northgate).order_by("family_name", "given_name", "pk"),
        region=world.northgate.country,
    )
    found = selectors.search(many, asked)
    assert isinstance(found, Paged)
    expected = [p.pk for p in orm]
    assert [p.pk for p in found[0:100]] == expected
    assert [p.pk for p in found[2:5]] == expected[2:5]
    assert found.count() == len(expected)
    assert all(p.clinic is world.northgate for p in found[0:3])


@pytest.mark.django_db
def test_it_is_composed_once_for_its_shape_and_sent_as_text(many):
    selectors._SEARCHES.clear()
    for q in ("zed1", "zed2", "amy"):
        assert selectors.search(many, PatientFilter(q=q))[0:25] is not None
    assert list(selectors._SEARCHES) == [("name",)]
    rows = selectors._SEARCHES[("name",)]
    assert rows.planned_each_time and len(rows._recipes) == 1
    assert rows.ahead(25, clinic=1, v0="zed") is None  # never sent ahead as a prepared read
    with CaptureQueriesContext(connection) as seen:
        selectors.search(many, PatientFilter(q="zed3"))[0:25]
    [read] = [q["sql"] for q in seen.captured_queries]
    assert "%zed3%" in read  # the value in the text: the database plans for it


@pytest.mark.django_db
def test_a_search_of_many_conditions_is_the_orms_own(many):
    asked = PatientFilter(q=" ".join(f"w{i}" for i in range(selectors.COMPOSED_AT_MOST + 1)))
    found = selectors.search(many, asked)
    assert not isinstance(found, Paged) and found.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("planned_each_time", [False, True])
def test_like_lookups_are_composed_with_their_wildcards_escaped(world, many, planned_each_time):
    """A text reaches a LIKE lookup as a pattern around it: its own `%` and `_` are escaped there
    as the ORM escapes them, so they match only themselves."""

    def build(clinic: int, a: str, b: str, c: str):
        return Patient.objects.filter(
            clinic_id=clinic, given_name__contains=a, family_name__istartswith=b,
            email__endswith=c,
        ).order_by("pk")  # fmt: skip

    rows = PreparedRows(
        Patient, build, planned_each_time=planned_each_time, clinic=int, a=str, b=str, c=str
    )
    clinic = world.northgate.pk
    for a, b, c in (
        ("my_", "perc", ""),
        ("_", "%", ""),
        ("%", "", ""),
        ("m", "zed", "@mail.example"),
        ("y", "Z", "1@mail.example"),
    ):
        expected = [p.pk for p in build(clinic, a, b, c)]
        assert [p.pk for p in rows.rows(None, clinic=clinic, a=a, b=b, c=c)] == expected, (a, b, c)
    assert [p.pk for p in rows.rows(None, clinic=clinic, a="_", b="%", c="")] == []


@pytest.mark.django_db
@pytest.mark.parametrize("asked", ["zed1", "ZÉD", "amy zed", "my", "bea zed1", "jones", "s"])
def test_a_fhir_name_search_is_composed_once_and_finds_the_start_of_a_part(asked, many, world):
    """Each word at the start of a part of the folded name, as Python finds it among the rows."""
    from dermis.web.clinic.patients import normalise
    from dermis.web.fhir.rest import resources

    words = normalise.fold(asked).split()
    expected = [
        p.pk
        for p in Patient.objects.filter(clinic=world.northgate).order_by("family_name", "pk")
        if all(p.search_name.startswith(w) or f" {w}" in p.search_name for w in words)
    ]
    found = resources._patient_search(world.fran, {"name": [asked], "_count": ["50"]})
    assert isinstance(found, Paged)
    assert [p.pk for p in found[0:100]] == expected and found.count() == len(expected)
    assert all(p.clinic == world.northgate for p in found[0:2])
    # Beside another parameter it is the ORM's own query, finding the same.
    both = resources._patient_search(world.fran, {"name": [asked], "birthdate": ["ge1900-01-01"]})
    assert not isinstance(both, Paged) and [p.pk for p in both] == expected
    assert list(resources._NAMES) and all(r.planned_each_time for r in resources._NAMES.values())


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_every_form_of_a_date_of_birth_is_read_back(born):
    """The quick refusal of text without a four-digit year leaves every accepted form read."""
    from dermis.web.clinic.patients import normalise

    for fmt in normalise.DATE_FORMATS:
        assert normalise.parse_date(born.strftime(fmt)) == born, fmt
    for not_a_date in ("nguyen536", "0770090011", "14/07/88", "smith 12"):
        assert normalise.parse_date(not_a_date) is None
