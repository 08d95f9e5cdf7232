"""Writing a charted session: create and update a draft, finalise (sign and lock), add addenda.

Every write runs in one transaction and re-reads the session under a row lock, so a finalised
record cannot be changed by a stale form, a second tab or a direct POST. The same functions serve
the pages and, later, the REST API. A finalised session is also guarded at the model layer (the
signal handlers at the end), so no other code path can change it either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models.signals import pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone

from dermis.core.charting_checks import (
    AreaContext,
    ChartedArea,
    DepthCap,
    Issue,
    check_session,
    errors,
)
from dermis.core.errors import InputError
from dermis.web.clinic.core_inputs import knowledge, latest_consultation
from dermis.web.clinic.models import (
    Appointment,
    Patient,
    SessionAddendum,
    SessionArea,
    StaffMember,
    TreatmentPlan,
    TreatmentSession,
)

ADDENDUM_MAX_CHARS = 5000


class SessionLocked(Exception):
    """The session is finalised: it can no longer be changed, only added to (addenda)."""


class ChartError(InputError):
    """The chart breaks a knowledge-base limit; `issues` holds every error (and warning)."""

    def __init__(self, issues: list[Issue]) -> None:
        first = errors(issues)[0]
        super().__init__(issue_field(first), first.message)
        self.issues = issues


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


# --- Context: what the plan and screening say about each area -------------------------------


def _depth_caps(screening: dict, area: str) -> tuple[DepthCap, ...]:
    caps = []
    for f in screening.get("findings", []):
        covers = not f.get("areas") or area in f["areas"]
        if f.get("modality") == "microneedling" and f.get("depth_cap_mm") and covers:
            caps.append(
                DepthCap(float(f["depth_cap_mm"]), f["name"].lower(), tuple(f["citations"]))
            )
    return tuple(caps)


def area_contexts(patient: Patient, plan: TreatmentPlan | None, modality: str) -> dict:
    """Per area: the plan's depth profiles and planned depth/tip, thickness, screening caps."""
    kb = knowledge()
    consultation = plan.consultation if plan else latest_consultation(patient)
    if consultation is None:
        return {}
    thickness = (consultation.assessment or {}).get("skin_thickness")
    screening = (plan.content.get("screening") if plan else None) or consultation.screening or {}
    planned: dict[str, list[dict]] = {}
    for course in plan.content.get("courses", []) if plan else []:
        if course.get("modality") == modality:
            for t in course.get("treatments", []):
                planned.setdefault(t["area"], []).append(t)
    contexts = {}
    for area in kb.areas:
        treatments = planned.get(area, [])
        profiles = tuple(
            dict.fromkeys(
                kb.concerns[t["concern"]].depth_profile
                for t in treatments
                if t["concern"] in kb.concerns
            )
        )
        depths = [t["depth_mm"] for t in treatments if t.get("depth_mm") is not None]
        tips = [t["tip"] for t in treatments if t.get("tip")]
        contexts[area] = AreaContext(
            depth_profiles=profiles,
            thickness=thickness,
            # two concerns on one area are treated at one setting: the gentler one
            planned_depth_mm=min(depths) if depths else None,
            planned_tip=min(tips, key=("fine", "medium", "coarse").index) if tips else None,
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


def planned_chart(plan: TreatmentPlan, modality: str, performed_at: datetime) -> Chart | None:
    """A chart prefilled from the plan's course for `modality` (None if it has none)."""
    course = next(
        (c for c in plan.content.get("courses", []) if c.get("modality") == modality), None
    )
    if not course or not course.get("treatments"):
        return None
    contexts = area_contexts(plan.patient, plan, modality)
    areas = tuple(
        ChartedArea(area, contexts[area].planned_depth_mm, contexts[area].planned_tip)
        for area in dict.fromkeys(t["area"] for t in course["treatments"])
        if area in contexts
    )
    return Chart(
        modality=modality,
        device=course["treatments"][0]["device"],
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


# --- Writes ---------------------------------------------------------------------------------


def _checked(chart: Chart, patient: Patient, plan: TreatmentPlan | None) -> list[Issue]:
    issues = check_chart(chart, patient, plan)
    if errors(issues):
        raise ChartError(issues)
    return issues


def _apply(session: TreatmentSession, chart: Chart) -> None:
    for name in (
        "modality",
        "device",
        "performed_at",
        "duration_minutes",
        "cartridge",
        "lot_number",
        "serum",
        "numbing",
        "endpoint",
        "immediate_reactions",
        "notes",
    ):
        setattr(session, name, getattr(chart, name))


def _write_areas(session: TreatmentSession, chart: Chart) -> None:
    session.areas.all().delete()
    SessionArea.objects.bulk_create(
        SessionArea(
            session=session,
            area=a.area,
            depth_mm=Decimal(str(a.depth_mm)) if a.depth_mm is not None else None,
            tip=a.tip or "",
            passes=a.passes,
        )
        for a in chart.areas
    )


def create_draft(
    patient: Patient,
    practitioner: StaffMember,
    chart: Chart,
    plan: TreatmentPlan | None = None,
    appointment: Appointment | None = None,
) -> tuple[TreatmentSession, list[Issue]]:
    """A new draft session with its areas; returns it with the checks' warnings."""
    issues = _checked(chart, patient, plan)
    with transaction.atomic():
        session = TreatmentSession(
            patient=patient, plan=plan, appointment=appointment, practitioner=practitioner
        )
        _apply(session, chart)
        session.save()
        _write_areas(session, chart)
    return session, issues


def _locked_draft(session_id: int) -> TreatmentSession:
    session = (
        TreatmentSession.objects.select_for_update().select_related("patient").get(pk=session_id)
    )
    if session.is_final:
        raise SessionLocked("the session is finalised; add an addendum instead")
    return session


def update_draft(session_id: int, chart: Chart) -> tuple[TreatmentSession, list[Issue]]:
    """Replace a draft's content. Raises SessionLocked once it is finalised."""
    with transaction.atomic():
        session = _locked_draft(session_id)
        issues = _checked(chart, session.patient, session.plan)
        _apply(session, chart)
        session.save()
        _write_areas(session, chart)
    return session, issues


def finalise(session_id: int, user) -> TreatmentSession:
    """Sign and lock: status final, who and when, and the hash of the record as signed."""
    with transaction.atomic():
        session = _locked_draft(session_id)
        chart = stored_chart(session)
        if not chart.areas:
            raise InputError("areas", "chart at least one treated area before finalising")
        if not chart.cartridge.strip():
            raise InputError("cartridge", "is required to finalise (the cartridge or tip used)")
        if not chart.lot_number.strip():
            raise InputError("lot_number", "is required to finalise (the cartridge or tip lot)")
        _checked(chart, session.patient, session.plan)
        session.status = TreatmentSession.Status.FINAL
        session.finalised_at = timezone.now()
        session.finalised_by = user
        session.content_sha256 = content_sha256(session)
        session.save()
    return session


def add_addendum(session_id: int, user, text: str) -> SessionAddendum:
    """A dated, signed note added to a finalised session; the record itself stays as signed."""
    text = (text or "").strip()
    if not text:
        raise InputError("text", "is required: write what you are adding to the record")
    if len(text) > ADDENDUM_MAX_CHARS:
        raise InputError("text", f"is too long ({len(text)} characters; at most 5000)")
    with transaction.atomic():
        session = TreatmentSession.objects.select_for_update().get(pk=session_id)
        if not session.is_final:
            raise InputError("text", "a draft is edited directly; addenda follow finalising")
        return SessionAddendum.objects.create(session=session, author=user, text=text)


# --- The signed content ---------------------------------------------------------------------


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def canonical_record(session: TreatmentSession) -> dict:
    """The finalised content in a fixed shape: what content_sha256 is the hash of."""
    areas = sorted(session.areas.all(), key=lambda a: a.area)
    return {
        "session": session.pk,
        "patient": session.patient_id,
        "plan": session.plan_id,
        "practitioner": session.practitioner_id,
        "performed_at": _utc(session.performed_at),
        "duration_minutes": session.duration_minutes,
        "modality": session.modality,
        "device": session.device,
        "cartridge": session.cartridge,
        "lot_number": session.lot_number,
        "serum": session.serum,
        "numbing": session.numbing,
        "endpoint": session.endpoint,
        "immediate_reactions": session.immediate_reactions,
        "notes": session.notes,
        "finalised_at": _utc(session.finalised_at),
        "finalised_by": session.finalised_by_id,
        "areas": [
            {
                "area": a.area,
                # SQLite and PostgreSQL return different scales (0.5 / 0.50): fix it
                "depth_mm": (
                    str(Decimal(a.depth_mm).quantize(Decimal("0.01")))
                    if a.depth_mm is not None
                    else None
                ),
                "tip": a.tip,
                "passes": a.passes,
            }
            for a in areas
        ],
    }


def content_sha256(session: TreatmentSession) -> str:
    text = json.dumps(
        canonical_record(session), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_intact(session: TreatmentSession) -> bool | None:
    """Whether a finalised record still hashes to what was signed (None for a draft)."""
    if not session.is_final:
        return None
    return content_sha256(session) == session.content_sha256


# --- Model-layer guard ----------------------------------------------------------------------


@receiver(pre_save, sender=TreatmentSession, dispatch_uid="dermis-lock-final-session")
def _refuse_changing_a_final_session(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    final = TreatmentSession.Status.FINAL
    if TreatmentSession.objects.filter(pk=instance.pk, status=final).exists():
        raise SessionLocked("a finalised session cannot be changed")


@receiver(pre_save, sender=SessionArea, dispatch_uid="dermis-lock-final-session-areas")
@receiver(pre_delete, sender=SessionArea, dispatch_uid="dermis-lock-final-session-areas-del")
def _refuse_changing_a_final_sessions_areas(sender, instance, raw=False, **kwargs):
    if raw:
        return
    final = TreatmentSession.Status.FINAL
    if TreatmentSession.objects.filter(pk=instance.session_id, status=final).exists():
        raise SessionLocked("a finalised session's areas cannot be changed")
