"""Reading a chart: a session as a `Chart`, what the plan and screening say about each area, the
core's checks of a chart, and a chart prefilled from the plan.

Translation only: the limits are the core's (`dermis.core.charting_checks`), the planned setting
of an area is the plan's (`Course.area_depths`, `Course.area_tips`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from pydantic import ValidationError

from dermis.core.charting_checks import AreaContext, ChartedArea, DepthCap, Issue, check_session
from dermis.core.plan_records import Course, Plan
from dermis.core.progress import SessionDone, sessions_done
from dermis.core.screening import Screening
from dermis.web.clinic.core_inputs import (
    AREAS,
    SESSIONS,
    core_assessment,
    give_related,
    knowledge,
    latest_consultation,
    read_sessions,
)
from dermis.web.clinic.models import Patient, SessionAddendum, TreatmentPlan, TreatmentSession
from dermis.web.clinic.prepared import PreparedRows
from dermis.web.clinic.together import Read, read_together


@dataclass(frozen=True)
class Chart:
    """What a practitioner charts for one session (the form's or an API body's content)."""

    modality: str
    device: str
    performed_at: datetime
    duration_minutes: int = 60
    cartridge: str = ""
    lot_number: str = ""
    serum: str = ""
    numbing: str = ""
    endpoint: str = TreatmentSession.Endpoint.NONE
    immediate_reactions: str = ""
    notes: str = ""
    areas: tuple[ChartedArea, ...] = field(default=())


def issue_field(issue: Issue) -> str:
    """'areas.cheeks.depth_mm' for an area's issue, 'device' for the session's."""
    return f"areas.{issue.area}.{issue.field}" if issue.area else issue.field


def _depth_caps(screening: Screening, area: str) -> tuple[DepthCap, ...]:
    return tuple(
        DepthCap(f.depth_cap_mm, f.name.lower(), f.citations)
        for f in screening.for_modality("microneedling")
        if f.depth_cap_mm and f.covers(area)
    )


def _course(plan_row: TreatmentPlan | None, modality: str) -> tuple[Plan | None, Course | None]:
    if plan_row is None:
        return None, None
    plan = Plan.from_dict(plan_row.content)
    return plan, plan.course_for(modality)


def area_contexts(patient: Patient, plan_row: TreatmentPlan | None, modality: str) -> dict:
    """Per area: the plan's depth profiles and planned depth/tip, thickness, screening caps."""
    kb = knowledge()
    consultation = plan_row.consultation if plan_row else latest_consultation(patient)
    if consultation is None:
        return {}
    try:
        thickness = core_assessment(consultation).skin_thickness
    except ValidationError:  # an assessment stored before the core's current shape
        thickness = (consultation.assessment or {}).get("skin_thickness")
    plan, course = _course(plan_row, modality)
    screening = (
        plan.screening
        if plan and plan.screening.findings
        else Screening.from_dict(consultation.screening)
        if consultation.screening
        else Screening(consultation.as_of, ())
    )
    depths = course.area_depths() if course else {}
    tips = course.area_tips() if course else {}
    treatments = course.treatments if course else ()
    contexts = {}
    for area in kb.areas:
        profiles = tuple(
            dict.fromkeys(
                kb.concerns[t.concern].depth_profile
                for t in treatments
                if t.area == area and t.concern in kb.concerns
            )
        )
        contexts[area] = AreaContext(
            depth_profiles=profiles,
            thickness=thickness,
            planned_depth_mm=depths.get(area),
            planned_tip=tips.get(area),
            depth_caps=_depth_caps(screening, area),
        )
    return contexts


def check_chart(chart: Chart, patient: Patient, plan: TreatmentPlan | None) -> list[Issue]:
    """The core's checks of the chart with this patient's plan and screening as context."""
    return check_session(
        knowledge(),
        chart.modality,
        chart.device,
        chart.areas,
        area_contexts(patient, plan, chart.modality),
        patient.fitzpatrick or None,
    )


def planned_chart(plan_row: TreatmentPlan, modality: str, performed_at: datetime) -> Chart | None:
    """A chart prefilled from the plan's course for `modality` (None if it has none)."""
    _, course = _course(plan_row, modality)
    if course is None:
        return None
    contexts = area_contexts(plan_row.patient, plan_row, modality)
    areas = tuple(
        ChartedArea(area, contexts[area].planned_depth_mm, contexts[area].planned_tip)
        for area in course.areas
        if area in contexts
    )
    return Chart(
        modality=modality,
        device=course.treatments[0].device,
        performed_at=performed_at,
        areas=areas,
    )


def stored_chart(session: TreatmentSession) -> Chart:
    """A saved session as a Chart (to re-check it, or to fill the edit form)."""
    return Chart(
        modality=session.modality,
        device=session.device,
        performed_at=session.performed_at,
        duration_minutes=session.duration_minutes,
        cartridge=session.cartridge,
        lot_number=session.lot_number,
        serum=session.serum,
        numbing=session.numbing,
        endpoint=session.endpoint,
        immediate_reactions=session.immediate_reactions,
        notes=session.notes,
        areas=tuple(
            ChartedArea(
                a.area,
                float(a.depth_mm) if a.depth_mm is not None else None,
                a.tip or None,
                a.passes,
            )
            for a in session.areas.all()
        ),
    )


def course_progress(
    patient: Patient, plan_row: TreatmentPlan | None, read: list | None = None
) -> list[dict]:
    """Per course of the active plan: its modality, sessions signed for it and planned
    (`dermis.core.progress`: finalised visits of its modality since its earliest start).
    `read`: the patient's sessions if the caller has them already."""
    if plan_row is None:
        return []
    if read is None:
        read = patient.sessions.only("patient", "modality", "performed_at", "status")
    sessions = [
        SessionDone(s.modality, timezone.localtime(s.performed_at).date(), s.is_final) for s in read
    ]
    return [
        {
            "modality": c.modality,
            "done": sessions_done(c, sessions),
            "planned": c.sessions,
        }
        for c in Plan.from_dict(plan_row.content).courses
    ]


def plan_for(patient: Patient, modality: str) -> TreatmentPlan | None:
    """The plan a new session of `modality` belongs to: the active plan, if it has that course."""
    from dermis.web.clinic.core_inputs import active_plan

    plan_row = active_plan(patient)
    _, course = _course(plan_row, modality)
    return plan_row if course is not None else None


# A patient's addenda with their authors, for `charted_sessions` to give each session its own
# (as `prefetch_related("addenda__author")` does, in the model's order within a session).
ADDENDA = PreparedRows(
    SessionAddendum,
    lambda patient: (
        SessionAddendum.objects.filter(session__patient_id=patient)
        .select_related("author")
        .order_by("session_id", "created_at", "pk")
    ),
    patient=int,
)


def charted_session_reads(patient_id: int) -> list[Read | None]:
    """What `charted_sessions` reads, for a page to send with its own first reads (by the
    patient's id as asked for: a read the page then refuses is only read, never used)."""
    return [
        SESSIONS.ahead(None, patient=patient_id),
        AREAS.ahead(None, patient=patient_id),
        ADDENDA.ahead(None, patient=patient_id),
    ]


def charted_sessions(patient: Patient) -> list[TreatmentSession]:
    """Every session of the patient, newest first (by time, then id), each with its areas and
    its addenda (with their authors): the three read in one round trip where the database
    takes several statements as one string (`read_together`), where they were three."""
    pk = patient.pk
    with read_together(*charted_session_reads(pk)):
        sessions = read_sessions(patient)
        addenda = ADDENDA.rows(None, patient=pk) if sessions else []
    give_related(sessions, addenda, SessionAddendum, "session")
    return sessions[::-1]
