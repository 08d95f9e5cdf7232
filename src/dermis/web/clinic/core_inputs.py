"""Translate stored records into the core's inputs. No clinical rule lives here.

Every view, PDF, API endpoint and task that calls the core goes through these functions, so they
all ask the core the same question about the same patient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import lru_cache

from django.utils import timezone
from pydantic import ValidationError

from dermis.core import patient as cp
from dermis.core.errors import InputError
from dermis.core.knowledge import load_knowledge
from dermis.core.knowledge.schema import KnowledgeBase
from dermis.web.clinic.models import (
    Consultation,
    FollowUpGrade,
    Patient,
    SessionArea,
    TreatmentPlan,
    TreatmentSession,
)
from dermis.web.clinic.prepared import PreparedRows
from dermis.web.clinic.together import Read


@lru_cache(maxsize=1)
def knowledge() -> KnowledgeBase:
    """The knowledge base (DERMIS_KNOWLEDGE or the bundled one), loaded once per process."""
    return load_knowledge()


def core_patient(patient: Patient, on: date) -> cp.Patient:
    """The core's view of the patient on a day. Raises InputError('fitzpatrick') when unset."""
    if not patient.fitzpatrick:
        raise InputError("fitzpatrick", "is required: record the phototype at the consultation")
    try:
        # No name: the core does not need it, so it never reaches its outputs or errors.
        return cp.Patient(
            age=patient.age_on(on), sex=patient.sex, fitzpatrick=cp.Phototype(patient.fitzpatrick)
        )
    except ValidationError as exc:
        raise cp.input_error(exc) from None


_READ_ONCE = "_dermis_read_once"


@contextmanager
def read_once(patient: Patient) -> Iterator[None]:
    """Within it, `active_plan`, `latest_consultation`, `sessions` and `grades` of this patient
    object are read once: for a page that only reads (the record page's panels each ask for the
    active plan, the sessions and the grades). Nothing that writes may run inside it, since what
    it remembers would not follow the write."""
    setattr(patient, _READ_ONCE, {})
    try:
        yield
    finally:
        patient.__dict__.pop(_READ_ONCE, None)


def reading_once(patient: Patient) -> bool:
    """Whether `patient` is inside `read_once`."""
    return getattr(patient, _READ_ONCE, None) is not None


def _once(patient: Patient, key: str, read: Callable):
    memo = getattr(patient, _READ_ONCE, None)
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


# A patient's plans, consultations, sessions and grades are read on most clinical pages: composed
# once per process (prepared.py), each row given the patient it was read for.
LATEST_CONSULTATION = PreparedRows(
    Consultation,
    lambda patient: Consultation.objects.filter(patient_id=patient).order_by("-created_at", "-pk"),
    patient=int,
)
ACTIVE_PLAN = PreparedRows(
    TreatmentPlan,
    lambda patient: TreatmentPlan.objects.filter(
        patient_id=patient, status=TreatmentPlan.Status.ACTIVE
    ).order_by("-version"),
    patient=int,
)
SESSIONS = PreparedRows(
    TreatmentSession,
    lambda patient: TreatmentSession.objects.filter(patient_id=patient).order_by(
        "performed_at", "pk"
    ),
    patient=int,
)
# A patient's session areas, for `read_sessions` to give each session its own (as
# `prefetch_related("areas")` does, in the model's order within a session).
AREAS = PreparedRows(
    SessionArea,
    lambda patient: SessionArea.objects.filter(session__patient_id=patient).order_by(
        "session_id", "area", "pk"
    ),
    patient=int,
)
GRADES = PreparedRows(
    FollowUpGrade,
    lambda patient: FollowUpGrade.objects.filter(patient_id=patient).order_by("graded_on", "pk"),
    patient=int,
)


def _first(rows: list):
    return rows[0] if rows else None


def latest_consultation(patient: Patient) -> Consultation | None:
    return _once(
        patient,
        "latest_consultation",
        lambda: _first(LATEST_CONSULTATION.rows(1, patient=patient.pk, known={"patient": patient})),
    )


def remember_latest_consultation(patient: Patient, consultation: Consultation | None) -> None:
    """Inside `read_once`, for a page that has read every consultation newest first (by
    `created_at`, then id, as `latest_consultation` orders them): the first of them, or None."""
    memo = getattr(patient, _READ_ONCE, None)
    if memo is not None:
        memo["latest_consultation"] = consultation


def core_intake(consultation: Consultation | None) -> cp.Intake:
    """The stored intake (an empty questionnaire when there is no consultation yet)."""
    if consultation is None:
        return cp.Intake()
    return cp.Intake.model_validate(consultation.intake)


def core_assessment(consultation: Consultation) -> cp.Assessment:
    return cp.Assessment.model_validate(consultation.assessment)


def active_plan(patient: Patient) -> TreatmentPlan | None:
    return _once(
        patient,
        "active_plan",
        lambda: _first(ACTIVE_PLAN.rows(1, patient=patient.pk, known={"patient": patient})),
    )


def sessions(patient: Patient) -> list[TreatmentSession] | None:
    """Inside `read_once`: every session of the patient (draft and signed) with its areas, oldest
    first (by time, then id), read once for all the panels. Outside it: None, and each caller
    reads what it needs itself."""
    if getattr(patient, _READ_ONCE, None) is None:
        return None
    return _once(patient, "sessions", lambda: read_sessions(patient))


def read_sessions(patient: Patient) -> list[TreatmentSession]:
    """Every session of the patient with its areas, oldest first: read now (composed once)."""
    rows = SESSIONS.rows(None, patient=patient.pk, known={"patient": patient})
    if rows:
        give_related(rows, AREAS.rows(None, patient=patient.pk), SessionArea, "session")
    return rows


def give_related(parents: list, children: list, model, field_name: str) -> None:
    """Each parent's related manager (the reverse of `model.field_name`) answered from
    `children`, in their order, as `prefetch_related_objects` leaves it (the related manager's
    queryset holding the rows, each row given its parent)."""
    field = model._meta.get_field(field_name)
    of: dict[int, list] = {parent.pk: [] for parent in parents}
    for child in children:
        of.get(getattr(child, field.attname), []).append(child)
    cache = field.remote_field.cache_name
    accessor = field.remote_field.get_accessor_name()
    for parent in parents:
        mine = of[parent.pk]
        for child in mine:
            field.set_cached_value(child, parent)
        queryset = getattr(parent, accessor).get_queryset()
        queryset._result_cache, queryset._prefetch_done = mine, True
        parent.__dict__.setdefault("_prefetched_objects_cache", {})[cache] = queryset


def forecast_reads(patient: Patient) -> list[Read | None]:
    """The reads of the active plan, the sessions (with their areas) and the grades, which a
    forecast's inputs take, to send together (`prepared.read_together`)."""
    return [ACTIVE_PLAN.ahead(1, patient=patient.pk), *history_reads(patient)]


def history_reads(patient: Patient) -> list[Read | None]:
    """The reads of the patient's sessions (with their areas) and grades, for a page that will
    ask for both inside `read_once` to send them together (`prepared.read_together`)."""
    return [
        SESSIONS.ahead(None, patient=patient.pk),
        AREAS.ahead(None, patient=patient.pk),
        GRADES.ahead(None, patient=patient.pk),
    ]


def grades(patient: Patient) -> list[FollowUpGrade]:
    """The patient's follow-up grades, oldest first (by day, then id); once within `read_once`."""
    return _once(
        patient, "grades", lambda: GRADES.rows(None, patient=patient.pk, known={"patient": patient})
    )


def core_session(session: TreatmentSession) -> cp.Session:
    """A charted session as the core's Session (deepest area depth, first tip)."""
    areas = list(session.areas.all())
    depths = [float(a.depth_mm) for a in areas if a.depth_mm is not None]
    tips = [a.tip for a in areas if a.tip]
    return cp.Session(
        # Clinic time: the core's "until 18:00" and day boundaries are read off the wall clock.
        start=timezone.localtime(session.performed_at),
        duration_minutes=max(10, min(240, session.duration_minutes)),
        modality=session.modality,
        depth_mm=max(depths) if depths and session.modality == "microneedling" else None,
        tip=tips[0] if tips and session.modality == "microdermabrasion" else None,
        areas=[a.area for a in areas],
    )
