"""Consultations: intake and assessment in, the core's screening and proposal out and stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from dermis.core import patient as cp
from dermis.core.adjust import Change
from dermis.core.errors import InputError
from dermis.core.patient import field_name
from dermis.web.api.auth import api_actor, clinic_patient, clinic_record, require_staff
from dermis.web.api.errors import field_error
from dermis.web.api.routers.records import plan_out
from dermis.web.api.schemas import (
    EARLIEST,
    LATEST,
    AcceptIn,
    ConsultationOut,
    ConsultationSummary,
    Day,
    PathId,
    Phototype,
    PlanOut,
    Problem,
    ReviseIn,
    text_problem,
)
from dermis.web.clinic.access import CLINICAL, audit, client_ip
from dermis.web.clinic.consultations import selectors
from dermis.web.clinic.consultations import services as writes
from dermis.web.clinic.models import AuditEvent, Consultation, TreatmentPlan

router = Router(tags=["consultations"])


class ConsultationIn(Schema):
    intake: cp.Intake = Field(default_factory=cp.Intake)
    assessment: cp.Assessment
    as_of: Day | None = Field(None, description="the day screening is for; default today")
    fitzpatrick: Phototype | None = Field(
        None, description="record the phototype now (required when the patient has none)"
    )


def _values(data: object, loc: tuple = ()) -> Iterator[tuple[tuple, object]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _values(value, (*loc, key))
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from _values(value, (*loc, i))
    else:
        yield loc, data


def _check_storable(payload: ConsultationIn) -> None:
    """Text PostgreSQL can store and dates the core's arithmetic cannot overflow."""
    for part in ("intake", "assessment"):
        for loc, value in _values(getattr(payload, part).model_dump(), ("body", part)):
            if isinstance(value, str) and (problem := text_problem(value)):
                raise field_error(field_name(loc), problem)
            if isinstance(value, date) and not EARLIEST <= value <= LATEST:
                raise field_error(field_name(loc), f"must be between {EARLIEST} and {LATEST}")


def summary(c: Consultation) -> dict:
    return {
        "id": c.pk,
        "patient_id": c.patient_id,
        "practitioner_id": c.practitioner_id,
        "created_at": c.created_at,
        "as_of": c.as_of,
        "status": c.status,
        "knowledge_version": c.knowledge_version,
        "plan_status": (c.proposal or {}).get("status"),
    }


def detail(c: Consultation) -> dict:
    return {
        **summary(c),
        "intake": c.intake,
        "assessment": c.assessment,
        "screening": c.screening,
        "proposal": c.proposal,
        "recognition": selectors.recognition(c),
    }


@router.get(
    "/patients/{patient_id}/consultations",
    response=list[ConsultationSummary],
    summary="A patient's consultations, newest first",
)
def list_consultations(request, patient_id: PathId):
    staff = require_staff(request, CLINICAL)
    patient = clinic_patient(staff, patient_id)
    audit(request, AuditEvent.Action.VIEW, patient, summary="api: consultations")
    return [summary(c) for c in patient.consultations.order_by("-created_at", "-pk")]


@router.post(
    "/patients/{patient_id}/consultations",
    response={201: ConsultationOut},
    summary="Record a consultation: the core screens and proposes a plan",
)
def create_consultation(request, patient_id: PathId, payload: ConsultationIn):
    """Errors in the intake or assessment name the field, e.g. `body.assessment.concerns[0].area`;
    `fitzpatrick` is required when the patient has no phototype yet."""
    staff = require_staff(request, CLINICAL)
    patient = clinic_patient(staff, patient_id)
    _check_storable(payload)
    as_of = payload.as_of or timezone.localdate()
    # The web's own write: the same screening, plan and stored snapshot as the consultation page.
    fitzpatrick = payload.fitzpatrick or patient.fitzpatrick
    try:
        consultation = writes.create_consultation(
            api_actor(request), patient, payload.intake, payload.assessment, fitzpatrick, as_of
        )
    except InputError as exc:
        if exc.field == "age":  # from the stored date of birth and as_of, not this body
            age = patient.age_on(as_of)
            raise field_error(
                "body.as_of", f"the patient is {age} on {as_of}; 16 to 110 can be treated"
            ) from None
        if getattr(exc, "status", 422) != 422:
            raise
        raise field_error(f"body.{exc.field}", exc.message) from None
    except OverflowError:
        raise field_error("body", "a date is too far in the past or the future") from None
    return Status(201, detail(consultation))


@router.get(
    "/consultations/{consultation_id}",
    response=ConsultationOut,
    summary="A consultation with its screening and proposal",
)
def get_consultation(request, consultation_id: PathId):
    staff = require_staff(request, CLINICAL)
    consultation = clinic_record(staff, Consultation, consultation_id)
    audit(request, AuditEvent.Action.VIEW, consultation)
    return detail(consultation)


def _changes(items) -> list[Change]:
    return [Change(c.course, c.what, c.value, c.reason, c.treatment) for c in items]


@router.post(
    "/consultations/{consultation_id}/accept",
    response={201: PlanOut, 409: Problem, 422: Problem},
    summary="Accept the proposal as a plan version, with the patient's consent",
)
def accept(request, consultation_id: PathId, payload: AcceptIn):
    """The same service as the consultation page: adjustments inside the safe bounds (refused
    with the limit and its source), the consent text exactly as versioned and hashed, and the
    signature (drawn as a PNG data URL, or the typed full name). Booked treatments the plan makes
    unsafe are flagged. 409 when the consultation is no longer open."""
    staff = require_staff(request, CLINICAL)
    consultation = clinic_record(staff, Consultation, consultation_id)
    proposal = consultation.proposal
    version = payload.consent_version or writes.consent_text_for(proposal).version
    signature = b""
    if payload.signature_png:
        signature = writes.decode_signature(payload.signature_png)
    consent = writes.SignedConsent(version, payload.signer_name, signature, client_ip(request))
    plan, _ = writes.accept_plan(
        api_actor(request), consultation, _changes(payload.adjustments), consent
    )
    return Status(201, plan_out(plan))


@router.post(
    "/plans/{plan_id}/revise",
    response={201: PlanOut, 409: Problem, 422: Problem},
    summary="Revise the active plan: a new version inside the same safe bounds",
)
def revise(request, plan_id: PathId, payload: ReviseIn):
    """Only the active, latest version can be revised (409 otherwise); the consent carries over."""
    staff = require_staff(request, CLINICAL)
    plan = clinic_record(staff, TreatmentPlan, plan_id)
    revised, _ = writes.revise_plan(
        api_actor(request), plan, _changes(payload.changes), payload.note
    )
    return Status(201, plan_out(revised))


class FactsIn(Schema):
    keep: list[int] = Field(
        default_factory=list, max_length=200, description="indices of the facts that are right"
    )


@router.post(
    "/consultations/{consultation_id}/facts",
    response={200: ConsultationOut, 409: Problem, 422: Problem},
    summary="Confirm or correct what was recognised from the free text",
)
def confirm_facts(request, consultation_id: PathId, payload: FactsIn):
    """The facts at `keep` are confirmed, the others removed; the screening and the proposal are
    made again from them. A proposal cannot be accepted while a fact awaits this check."""
    staff = require_staff(request, CLINICAL)
    consultation = clinic_record(staff, Consultation, consultation_id)
    updated = writes.confirm_facts(api_actor(request), consultation, payload.keep)
    return detail(updated)
