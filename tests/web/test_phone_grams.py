"""A phone search on PostgreSQL looks a number of seven digits or more up by its runs of seven
digits (`dermis_phone_grams`, migration 0032) before `LIKE` checks it: it must find exactly what
`contains` finds, whatever part of a number is typed."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient
from dermis.web.clinic.patients import normalise, selectors
from dermis.web.clinic.patients.filters import PHONE_GRAM, PatientFilter
from tests.factories import patient as new_patient

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the grams' index: PostgreSQL"
)

NUMBERS = [
    "07700 900111",
    "07700 900112",
    "07700 911900",
    "+44 20 7946 0018",
    "+1 415 555 0100",
    "+33 1 70 36 99 00",
    "0044 7700 900 113",
]


def _contains(clinic, fragment: str) -> set[int]:
    return set(
        Patient.objects.filter(clinic=clinic, phone_normalised__contains=fragment).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.django_db
def test_every_part_of_a_number_finds_what_contains_finds(world):
    made = [new_patient(world.pat, "Ann", f"Caller {i}", phone=n) for i, n in enumerate(NUMBERS)]
    actor = Actor.of_staff(world.fran)
    for p in made:
        stored = p.phone_normalised
        for size in range(3, len(stored) + 1):
            for start in range(len(stored) - size + 1):
                fragment = stored[start : start + size]
                if not normalise.is_phone_shaped(fragment):
                    continue
                found = {p.pk for p in selectors.search(actor, PatientFilter(q=fragment))[0:1000]}
                assert found == _contains(world.northgate, normalise.phone_fragment(fragment)), (
                    fragment
                )
                assert p.pk in found or normalise.phone_fragment(fragment) not in stored


@pytest.mark.django_db
def test_the_grams_are_asked_only_for_seven_digits_or_more_and_only_on_postgresql(world):
    # what is typed, and whether its number (the trunk's 0 dropped) has seven digits or more
    for typed, long_enough in (
        ("07700 900", True),
        ("900111", False),
        ("+44 7700", False),
        ("+447700900111", True),
        ("Quinn +447700900", True),  # a number among words
    ):
        sql = str(PatientFilter(q=typed).apply(Patient.objects.all()).query)
        wanted = long_enough and connection.vendor == "postgresql"
        assert ("dermis_phone_grams" in sql) == wanted, typed


@on_postgresql
@pytest.mark.django_db
@settings(max_examples=200, deadline=None)
@given(
    number=st.text(alphabet="0123456789", min_size=7, max_size=15),
    start=st.integers(min_value=0, max_value=14),
    size=st.integers(min_value=PHONE_GRAM, max_value=15),
    plus=st.booleans(),
)
def test_a_number_holds_every_run_of_a_part_of_it(number, start, size, plus):
    stored = ("+" if plus else "") + number
    fragment = stored[start : start + size]
    if sum(ch.isdigit() for ch in fragment) < PHONE_GRAM:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT dermis_phone_grams(%s) @> dermis_phone_grams(%s), dermis_phone_grams(%s)",
            [stored, fragment, fragment],
        )
        holds, runs = cursor.fetchone()
    assert holds
    digits = "".join(ch for ch in fragment if ch.isdigit())
    assert sorted(runs) == sorted({digits[i : i + 7] for i in range(len(digits) - 6)})
