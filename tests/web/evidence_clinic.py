"""A clinic with enough follow-ups for a refit, built through the services (tests/factories.py).

`evidence_clinic(world.pat, 25)`: 25 patients with rolling acne scars (Goodman & Baron 3 on the
cheeks), three signed 1.5 mm sessions four weeks apart about seven months ago and three grades
after them (three, two and one month ago): 75 usable grades of 25 patients.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from tests import factories

SESSION_DAYS_AGO = (200, 172, 144)
GRADE_DAYS_AGO = (100, 60, 30)
# Grades on the 1-4 scale against a baseline of 3: mostly one grade better, some more, some less
GRADES = ((2, 2, 2), (2, 1.5, 2), (2.5, 2, 2), (2, 2, 1.5), (3, 2.5, 2.5))


def _at(days_ago: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(10)))


def evidence_patient(staff, i: int):
    today = timezone.localdate()
    who = factories.patient(
        staff, given=f"Evi{i}", family="Dence", born=date(1975 + i % 25, 1 + i % 12, 5)
    )
    assessment = {
        "skin_thickness": "normal",
        "concerns": [{"area": "cheeks", "concern": "acne_scars_rolling", "severity": 3}],
    }
    consult = factories.consultation(
        staff, who, assessment=assessment, as_of=today - timedelta(days=SESSION_DAYS_AGO[0] + 5)
    )
    plan = factories.accept(staff, consult)
    for days_ago in SESSION_DAYS_AGO:
        draft = factories.session(
            staff, who, plan=plan, performed_at=_at(days_ago), areas={"cheeks": 1.5}
        )
        factories.finalised(staff, draft)
    for days_ago, value in zip(GRADE_DAYS_AGO, GRADES[i % len(GRADES)], strict=True):
        factories.grade(staff, who, value, graded_on=today - timedelta(days=days_ago))
    return who


def evidence_clinic(staff, n_patients: int = 25) -> list:
    return [evidence_patient(staff, i) for i in range(n_patients)]
