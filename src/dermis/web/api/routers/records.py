"""The clinical record after the consultation: plan versions, charted sessions, follow-up grades.

Clinical roles only. Plans and sessions are read-only here: they are written by the web pages,
where a plan is accepted with a signed consent and a session is finalised with a signature.
"""

from __future__ import annotations

from ninja import Router, Status

from dermis.web.api.auth import api_actor, clinic_patient, clinic_record, require_staff
from dermis.web.api.errors import field_error
from dermis.web.api.schemas import GradeIn, GradeOut, PathId, PlanOut, SessionOut
from dermis.web.clinic.access import CLINICAL, audit
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.models import (
    AuditEvent,
    FollowUpGrade,
    TreatmentPlan,
    TreatmentSession,
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


def session_out(s: TreatmentSession) -> dict:
    fields = [
        "performed_at",
        "duration_minutes",
        "modality",
        "device",
        "cartridge",
        "lot_number",
        "serum",
        "numbing",
        "endpoint",
        "immediate_reactions",
        "notes",
        "status",
        "finalised_at",
        "content_sha256",
    ]
    return {
        "id": s.pk,
        "patient_id": s.patient_id,
        "plan_id": s.plan_id,
        "appointment_id": s.appointment_id,
        "practitioner_id": s.practitioner_id,
        **{name: getattr(s, name) for name in fields},
        "areas": [
            {
                "area": a.area,
                "depth_mm": float(a.depth_mm) if a.depth_mm is not None else None,
                "tip": a.tip,
                "passes": a.passes,
            }
            for a in s.areas.all()
        ],
        "addenda": [
            {
                "created_at": a.created_at,
                "author": a.author.get_username() if a.author else "",
                "text": a.text,
            }
            for a in s.addenda.all()
        ],
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


def _sessions():
    return TreatmentSession.objects.prefetch_related("areas", "addenda__author")


@router.get(
    "/patients/{patient_id}/sessions", response=list[SessionOut], summary="Charted sessions"
)
def list_sessions(request, patient_id: PathId):
    """Newest first, each with its areas (depth, tip, passes) and addenda."""
    staff = require_staff(request, CLINICAL)
    patient = clinic_patient(staff, patient_id)
    audit(request, AuditEvent.Action.VIEW, patient, summary="api: sessions")
    return [session_out(s) for s in _sessions().filter(patient=patient)]


@router.get("/sessions/{session_id}", response=SessionOut, summary="One charted session")
def get_session(request, session_id: PathId):
    staff = require_staff(request, CLINICAL)
    session = clinic_record(staff, TreatmentSession, session_id)
    audit(request, AuditEvent.Action.VIEW, session)
    return session_out(_sessions().get(pk=session.pk))


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
