"""One age limit and one way to count years, for every way a patient comes in."""

from datetime import date

import pytest
from pydantic import ValidationError

from dermis.core.patient import MAX_AGE, MIN_AGE, Patient, age_on


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1990, 6, 15), date(2026, 6, 14), 35),
        (date(1990, 6, 15), date(2026, 6, 15), 36),
        (date(2000, 2, 29), date(2027, 2, 28), 26),
        (date(2000, 2, 29), date(2027, 3, 1), 27),
        (date(2000, 2, 29), date(2028, 2, 29), 28),
    ],
)
def test_age_counts_whole_years_from_the_birthday(born, day, age):
    assert age_on(born, day) == age


def test_the_patient_model_uses_the_shared_limits():
    assert Patient(age=MIN_AGE, fitzpatrick="II").age == MIN_AGE
    assert Patient(age=MAX_AGE, fitzpatrick="II").age == MAX_AGE
    for age in (MIN_AGE - 1, MAX_AGE + 1):
        with pytest.raises(ValidationError):
            Patient(age=age, fitzpatrick="II")
