"""Consent given at home: photographs for the record, and the treatment consent for the plan the
practitioner proposed. Each is a ConsentRecord exactly as in the clinic: the versioned text as
shown, its SHA-256, the drawn signature (or the typed full name) and the signer's address; only
the witness is missing, because nobody from the clinic watched. The practitioner's acceptance of
the plan then uses this record (consultations.services.accept_plan)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from dermis.core.planning import Plan
from dermis.web.clinic.actors import PATIENT, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.consultations.consent_texts import ConsentText, photo_consent
from dermis.web.clinic.consultations.services import consent_text_for
from dermis.web.clinic.errors import ServiceError, conflict
from dermis.web.clinic.models import ConsentRecord, Consultation, Patient

PHOTOS = "photos"
TREATMENT = "treatment"


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def open_consultation(patient: Patient) -> Consultation | None:
    """The latest open consultation whose proposal can be consented to (None if none)."""
    found = patient.consultations.filter(status=Consultation.Status.OPEN).order_by(
        "-created_at", "-pk"
    )
    for consultation in found[:1]:
        proposal = Plan.from_dict(consultation.proposal)
        if proposal.status != "not_safe" and proposal.courses:
            return consultation
    return None


def text_for(patient: Patient, kind: str) -> tuple[ConsentText, Consultation | None]:
    if kind == PHOTOS:
        return photo_consent(), None
    consultation = open_consultation(patient)
    if consultation is None:
        raise ServiceError("kind", "there is no proposed plan to consent to yet")
    return consent_text_for(consultation.proposal), consultation


def signed(patient: Patient, kind: str) -> ConsentRecord | None:
    """This kind of consent already signed at home for the current text, if any."""
    try:
        text, consultation = text_for(patient, kind)
    except ServiceError:
        return None
    return (
        patient.consents.filter(
            consultation=consultation, text_version=text.version, witnessed_by__isnull=True
        )
        .order_by("-signed_at")
        .first()
    )


@dataclass(frozen=True)
class HomeSignature:
    shown_version: str
    signer_name: str
    signature_png: bytes  # empty: a typed signature (the full name on the record)
    ip_address: str | None = None


def sign(actor: Actor, patient: Patient, kind: str, given: HomeSignature) -> ConsentRecord:
    """The patient signs `kind` (photos or treatment) at home. ServiceError writes nothing."""
    actor.require((PATIENT,), "signing a consent at home")
    actor.require_self(patient)
    if kind not in (PHOTOS, TREATMENT):
        raise ServiceError("kind", "is not a consent the portal offers")
    text, consultation = text_for(patient, kind)
    name = given.signer_name.strip()
    if not name:
        raise ServiceError("signer_name", "is required")
    if not given.signature_png and _folded(name) != _folded(patient.full_name):
        raise ServiceError(
            "signer_name", "a typed signature must be your full name as the clinic has it"
        )
    if given.shown_version != text.version:
        raise ServiceError(
            "consent_version", "the text has changed since you opened the page: read it again"
        )
    with transaction.atomic():
        if signed(patient, kind) is not None:
            raise conflict("kind", "you have already signed this")
        row = ConsentRecord.objects.create(
            patient=patient,
            consultation=consultation,
            text_version=text.version,
            text=text.text,
            text_sha256=text.sha256,
            signature_png=given.signature_png,
            signer_name=name,
            witnessed_by=None,
            ip_address=given.ip_address,
        )
        record(actor, Action.SIGN, row, summary=f"{kind} consent signed at home")
    return row
