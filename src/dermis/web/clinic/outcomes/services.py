"""Recording follow-up grades: the only writer of `FollowUpGrade` rows.

One check of a grade (on the concern's named scale, `dermis.core.grading`; not in the future; not
before the patient was born) for the web form, the API and imports alike.
"""

from __future__ import annotations

import math
from datetime import date

from django.db import transaction

from dermis.core.errors import InputError
from dermis.core.grading import check_grade
from dermis.core.planning import Plan
from dermis.web.clinic import clock, recall_sync
from dermis.web.clinic.actors import CLINICAL, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.core_inputs import active_plan, knowledge
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import FollowUpGrade, Patient, TreatmentPlan

NOTES_MAX_CHARS = 2000


def planned_severity(plan: TreatmentPlan | None, area: str, concern: str) -> float | None:
    """The plan's grade of `concern` on `area` before treatment (the baseline), if it has one."""
    if plan is None:
        return None
    return next(
        (
            t.severity
            for c in Plan.from_dict(plan.content).courses
            for t in c.treatments
            if (t.area, t.concern) == (area, concern)
        ),
        None,
    )


def _on_scale(concern: str, value: float, field: str) -> None:
    if not math.isfinite(value):
        raise ServiceError(field, "must be a number")
    try:
        check_grade(knowledge(), concern, value, field)
    except InputError as err:
        raise ServiceError.of(err) from None


def record_grade(
    actor: Actor,
    patient: Patient,
    *,
    area: str,
    concern: str,
    grade: float,
    baseline: float | None = None,
    graded_on: date | None = None,
    plan: TreatmentPlan | None = None,
    notes: str = "",
) -> FollowUpGrade:
    """A follow-up grade of `concern` on `area`, on the concern's scale. The plan is the active one
    unless given; the baseline, when not given, is the plan's severity for that concern there."""
    actor.require(CLINICAL, "recording grades")
    actor.own(patient, "patient")
    kb = knowledge()
    if area not in kb.areas:
        raise ServiceError("area", f"unknown area (known: {', '.join(kb.areas)})")
    if plan is not None and plan.patient_id != patient.pk:
        raise ServiceError("plan_id", "is not one of this patient's plans")
    _on_scale(concern, grade, "grade")
    if baseline is not None:
        _on_scale(concern, baseline, "baseline")
    today = clock.today()
    graded_on = graded_on or today
    if graded_on > today:
        raise ServiceError("graded_on", "cannot be in the future")
    if graded_on < patient.date_of_birth:
        raise ServiceError("graded_on", "cannot be before the patient's date of birth")
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX_CHARS:
        raise ServiceError("notes", f"is too long (at most {NOTES_MAX_CHARS} characters)")
    plan = plan or active_plan(patient)
    if baseline is None:
        baseline = planned_severity(plan, area, concern)
    with transaction.atomic():
        row = FollowUpGrade.objects.create(
            patient=patient,
            plan=plan,
            area=area,
            concern=concern,
            grade=grade,
            baseline=baseline,
            graded_on=graded_on,
            graded_by=actor.user,
            notes=notes,
        )
        record(actor, Action.CREATE, row, summary="follow-up grade")
        recall_sync.changed(patient)
    return row
