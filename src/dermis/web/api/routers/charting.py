"""Charting over the API: draft sessions, changing a draft, finalising, addenda, clinical photos.

The same services as the charting pages (`dermis.web.clinic.charting.services`): the role and the
clinic, the knowledge base's limits, and the safety gate, whose refusal is a 422 problem document
naming the field, the date it lifts (`detail`, `errors[0].possible_from`) and its sources.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from django.http import FileResponse
from django.utils import timezone
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from dermis.core.charting_checks import ChartedArea
from dermis.web.api.auth import api_actor, clinic_patient, clinic_record, require_staff
from dermis.web.api.errors import field_error, not_found
from dermis.web.api.schemas import PathId, Problem, SessionOut
from dermis.web.api.schemas_charting import (
    AddendumCreated,
    AddendumIn,
    ChartedAreaIn,
    FinaliseIn,
    PhotoOut,
    SessionIn,
    SessionPatch,
)
from dermis.web.clinic.access import CLINICAL, PATIENT_IN_CLINIC, audit
from dermis.web.clinic.charting import photos as photo_store
from dermis.web.clinic.charting import services
from dermis.web.clinic.charting.selectors import (
    Chart,
    charted_session_reads,
    charted_sessions,
    plan_for,
    stored_chart,
)
from dermis.web.clinic.models import AuditEvent, Photo, TreatmentSession
from dermis.web.clinic.together import read_together

router = Router(tags=["clinical record"])
REFUSED = {403: Problem, 404: Problem, 409: Problem, 422: Problem}


def _aware(value):
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _areas(areas: list[ChartedAreaIn]) -> tuple[ChartedArea, ...]:
    return tuple(ChartedArea(a.area, a.depth_mm, a.tip, a.passes) for a in areas)


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
        "version": None if s.is_final else services.draft_version(s),
        "seal_algorithm": s.seal_algorithm,
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


def _sessions():
    return TreatmentSession.objects.prefetch_related("areas", "addenda__author")


@router.get(
    "/patients/{patient_id}/sessions", response=list[SessionOut], summary="Charted sessions"
)
def list_sessions(request, patient_id: PathId):
    """Newest first, each with its areas (depth, tip, passes) and addenda."""
    staff = require_staff(request, CLINICAL)
    # The patient and their sessions in one round trip.
    first = PATIENT_IN_CLINIC.ahead(1, patient=patient_id, clinic=staff.clinic_id)
    with read_together(first, *charted_session_reads(patient_id)):
        patient = clinic_patient(staff, patient_id)
        sessions = charted_sessions(patient)
    audit(request, AuditEvent.Action.VIEW, patient, summary="api: sessions")
    return [session_out(s) for s in sessions]


@router.get("/sessions/{session_id}", response=SessionOut, summary="One charted session")
def get_session(request, session_id: PathId):
    staff = require_staff(request, CLINICAL)
    session = clinic_record(staff, TreatmentSession, session_id)
    audit(request, AuditEvent.Action.VIEW, session)
    return session_out(_sessions().get(pk=session.pk))


def _session(session: TreatmentSession) -> dict:
    return session_out(_sessions().get(pk=session.pk))


@router.post(
    "/patients/{patient_id}/sessions",
    response={201: SessionOut, **REFUSED},
    summary="Chart a session (draft)",
)
def create_session(request, patient_id: PathId, payload: SessionIn):
    """A draft session with its areas, checked against the knowledge base's limits (depth or tip
    per area, device) and the safety gate on the day it was performed: 422 naming the field; a
    deferral (e.g. isotretinoin) names the day it ends in `detail` and `errors[0].possible_from`.
    Pre-care given at short notice needs `precare_done`. Finalise it when the record is
    complete."""
    staff = require_staff(request, CLINICAL)
    patient = clinic_patient(staff, patient_id)
    plan = plan_for(patient, payload.modality)
    if payload.plan_id is not None:
        plan = patient.plans.filter(pk=payload.plan_id).first()
        if plan is None:
            raise field_error("body.plan_id", "is not one of this patient's plans")
    appointment = None
    if payload.appointment_id is not None:
        appointment = patient.appointments.filter(pk=payload.appointment_id).first()
        if appointment is None:
            raise field_error("body.appointment_id", "is not one of this patient's appointments")
    chart = Chart(
        modality=payload.modality,
        device=payload.device,
        performed_at=_aware(payload.performed_at),
        duration_minutes=payload.duration_minutes,
        cartridge=payload.cartridge,
        lot_number=payload.lot_number,
        serum=payload.serum,
        numbing=payload.numbing,
        endpoint=payload.endpoint,
        immediate_reactions=payload.immediate_reactions,
        notes=payload.notes,
        areas=_areas(payload.areas),
    )
    session, _ = services.create_session(
        api_actor(request),
        patient,
        chart,
        appointment=appointment,
        plan=plan,
        precare_done=payload.precare_done,
        override_reason=payload.override_reason,
    )
    return Status(201, _session(session))


@router.patch(
    "/sessions/{session_id}", response={200: SessionOut, **REFUSED}, summary="Change a draft"
)
def update_session(request, session_id: PathId, payload: SessionPatch):
    """Only the fields sent change (`areas`, when sent, replaces them all); the same limits and
    safety gate as charting it. 409 once the session is finalised: add an addendum instead."""
    staff = require_staff(request, CLINICAL)
    session = clinic_record(staff, TreatmentSession, session_id)
    sent = payload.model_dump(exclude_unset=True, exclude={"precare_done", "override_reason"})
    if "areas" in sent:
        sent["areas"] = _areas(payload.areas or [])
    if sent.get("performed_at"):
        sent["performed_at"] = _aware(payload.performed_at)
    chart = replace(stored_chart(session), **{k: v for k, v in sent.items() if v is not None})
    updated, _ = services.update_session(
        api_actor(request),
        session,
        chart,
        precare_done=payload.precare_done,
        override_reason=payload.override_reason,
    )
    return _session(updated)


@router.post(
    "/sessions/{session_id}/finalise",
    response={200: SessionOut, **REFUSED},
    summary="Finalise (sign and lock) a session",
)
def finalise_session(request, session_id: PathId, payload: FinaliseIn):
    """Signs the record with the token's user and locks it, sealed with a keyed hash (check it
    with `GET /sessions/{id}/integrity`). `version` is the draft's `version` as you read it: when
    the draft has changed since, nothing is signed (409, field `version`). Needs a treated area,
    the cartridge and its lot number, a chart within the limits, and the safety gate's consent
    on the session's day: a screening older than the clinic's limit needs the chair-side check
    (`recheck`, or 422 on field `recheck`). 409 when it is already finalised."""
    staff = require_staff(request, CLINICAL)
    session = clinic_record(staff, TreatmentSession, session_id)
    signed = services.finalise_session(
        api_actor(request),
        session,
        precare_done=payload.precare_done,
        override_reason=payload.override_reason,
        recheck=payload.recheck.model_dump() if payload.recheck else None,
        version=payload.version,
    )
    return _session(signed)


@router.post(
    "/sessions/{session_id}/addenda",
    response={201: AddendumCreated, **REFUSED},
    summary="Add an addendum to a finalised session",
)
def add_addendum(request, session_id: PathId, payload: AddendumIn):
    """A dated note under the token's user's name, below the signed record, which does not
    change. A draft is changed directly instead (422)."""
    staff = require_staff(request, CLINICAL)
    session = clinic_record(staff, TreatmentSession, session_id)
    addendum = services.add_addendum(api_actor(request), session, payload.text)
    return Status(
        201,
        {
            "id": addendum.pk,
            "session_id": session.pk,
            "created_at": addendum.created_at,
            "author": request.user.get_username(),
            "text": addendum.text,
        },
    )


def photo_out(p: Photo) -> dict:
    fields = ["patient_id", "session_id", "area", "stage", "taken_on", "content_type", "width"]
    fields += ["height", "size_bytes", "sha256"]
    return {"id": p.pk, **{name: getattr(p, name) for name in fields}}


@router.post(
    "/patients/{patient_id}/photos",
    response={201: PhotoOut, **REFUSED},
    summary="Upload a clinical photo (multipart)",
)
def upload_photo(
    request,
    patient_id: PathId,
    file: File[UploadedFile],
    area: Form[str],
    taken_on: Form[date],
    stage: Form[str] = "before",
    session_id: Form[int | None] = None,
    consent_for_record: Form[bool] = False,
):
    """`multipart/form-data`: `file` (a JPEG or PNG, proved by decoding it, within the size and
    pixel limits), `area`, `stage` (before, after, follow_up), `taken_on` (not in the future),
    optionally `session_id`, and `consent_for_record` (true: the patient agreed to the photo
    being kept). The stored file has no metadata (no GPS, camera or time)."""
    staff = require_staff(request, CLINICAL)
    patient = clinic_patient(staff, patient_id)
    session = None
    if session_id is not None:
        session = patient.sessions.filter(pk=session_id).first()
        if session is None:
            raise field_error("body.session_id", "is not one of this patient's sessions")
    photo = services.upload_photo(
        api_actor(request),
        patient,
        file,
        area=area,
        stage=stage,
        taken_on=taken_on,
        session=session,
        consent_for_record=consent_for_record,
    )
    return Status(201, photo_out(photo))


IMAGE = {"type": "string", "format": "binary"}
PHOTO_FILE = {
    "responses": {
        200: {
            "description": "the image, as stored (no metadata)",
            "content": {"image/jpeg": {"schema": IMAGE}, "image/png": {"schema": IMAGE}},
        }
    }
}


@router.get(
    "/photos/{photo_id}",
    summary="Download a clinical photo",
    openapi_extra=PHOTO_FILE,
)
def download_photo(request, photo_id: PathId):
    """The stored image (JPEG or PNG, no metadata) for clinical roles of the patient's clinic;
    every download is audited."""
    staff = require_staff(request, CLINICAL)
    photo = clinic_record(staff, Photo, photo_id)
    try:
        handle = open(photo_store.path_of(photo.storage_name), "rb")  # noqa: SIM115
    except (OSError, ValueError):
        raise not_found() from None
    audit(request, AuditEvent.Action.DOWNLOAD, photo, summary="api: photo file")
    response = FileResponse(handle, content_type=photo.content_type)
    ext = "jpg" if photo.content_type == "image/jpeg" else "png"
    response["Content-Disposition"] = f'attachment; filename="photo-{photo.pk}.{ext}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
