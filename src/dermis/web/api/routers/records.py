"""The clinical record after the consultation: plan versions and follow-up grades.

Clinical roles only. Plans are read-only here: they are accepted on the web pages with a signed
consent. Charted sessions and photos are in `charting.py`.
"""

from __future__ import annotations

from ninja import Router, Status

from dermis.web.api.auth import api_actor, clinic_patient, clinic_record, require_staff
from dermis.web.api.errors import field_error
from dermis.web.api.schemas import GradeIn, GradeOut, PathId, PlanOut
from dermis.web.clinic.access import CLINICAL, audit
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.models import (
    AuditEvent,
    FollowUpGrade,
    TreatmentPlan,
)
from dermis.web.clinic.outcomes import services

router = Router(tags=["clinical record"])


def plan_out(p: TreatmentPlan) -> dict:
    return {
        "id": p.pk,
        "patient_id": p.patient_id,
        "consultation_id": p.consultation_id,
        "consent_id": p.consent_id,
        "version": p.version,
        "previous_id": p.previous_id,
        "status": p.status,
        "content": p.content,
        "adjustments": p.adjustments,
        "note": p.note,
        "created_at": p.created_at,
    }


def grade_out(g: FollowUpGrade) -> dict:
    concern = knowledge().concerns.get(g.concern)
    return {
        "id": g.pk,
        "patient_id": g.patient_id,
        "plan_id": g.plan_id,
        "area": g.area,
        "concern": g.concern,
        "scale": concern.scale if concern else None,
        "grade": g.grade,
        "baseline": g.baseline,
        "graded_on": g.graded_on,
        "notes": g.notes,
    }


@router.get("/patients/{patient_id}/plans", response=list[PlanOut], summary="Plan versions")
def list_plans(request, patient_id: PathId):
    """Every version of the patient's plan, newest first; only one is `active`."""
    staff = require_staff(request, CLINICAL)
    patient = clinic_patient(staff, patient_id)
    audit(request, AuditEvent.Action.VIEW, patient, summary="api: plans")
    return [plan_out(p) for p in patient.plans.order_by("-version")]


@router.get("/plans/{plan_id}", response=PlanOut, summary="One plan version")
def get_plan(request, plan_id: PathId):
    staff = require_staff(request, CLINICAL)
    plan = clinic_record(staff, TreatmentPlan, plan_id)
    audit(request, AuditEvent.Action.VIEW, plan)
    return plan_out(plan)


@router.get("/patients/{patient_id}/grades", response=list[GradeOut], summary="Follow-up grades")
def list_grades(request, patient_id: PathId):
    staff = require_staff(request, CLINICAL)
    patient = clinic_patient(staff, patient_id)
    audit(request, AuditEvent.Action.VIEW, patient, summary="api: grades")
    return [grade_out(g) for g in patient.grades.order_by("graded_on", "pk")]


@router.post("/patients/{patient_id}/grades", response={201: GradeOut}, summary="Record a grade")
def create_grade(request, patient_id: PathId, payload: GradeIn):
    """The grade (and baseline) on the concern's named scale, within its range (knowledge base);
    not in the future, not before the patient's birth. The plan is the active one unless
    `plan_id` is given; without a baseline, the plan's severity for that concern there is used."""
    staff = require_staff(request, CLINICAL)
    patient = clinic_patient(staff, patient_id)
    plan = None
    if payload.plan_id is not None:
        plan = patient.plans.filter(pk=payload.plan_id).first()
        if plan is None:
            raise field_error("body.plan_id", "is not one of this patient's plans")
    grade = services.record_grade(
        api_actor(request),
        patient,
        area=payload.area,
        concern=payload.concern,
        grade=payload.grade,
        baseline=payload.baseline,
        graded_on=payload.graded_on,
        plan=plan,
        notes=payload.notes,
    )
    return Status(201, grade_out(grade))
