"""Writing consultations and plan versions: each call is one transaction, all or nothing.

The core decides (screening, planning, safe bounds); this module stores what it said. Views call
these functions, and so can the REST API: none of them touches a request.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from django.db import transaction
from PIL import Image, UnidentifiedImageError

from dermis.core import patient as cp
from dermis.core.adjust import Adjusted, Change, adjust, limits
from dermis.core.errors import InputError
from dermis.core.planning import Plan
from dermis.core.planning import plan as make_plan
from dermis.core.recognition import Recognition, recognise
from dermis.core.screening import screen
from dermis.web.clinic import clock, recall_sync, safety
from dermis.web.clinic.actors import CLINICAL, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.consultations.consent_records import seal_consent
from dermis.web.clinic.consultations.consent_texts import ConsentText, consent_for
from dermis.web.clinic.core_inputs import core_assessment, core_patient, knowledge
from dermis.web.clinic.errors import ServiceError, conflict
from dermis.web.clinic.models import (
    ConsentRecord,
    Consultation,
    Patient,
    TreatmentPlan,
)

MAX_SIGNATURE_BYTES = 300_000
SIGNATURE_WIDTH = (100, 2400)
SIGNATURE_HEIGHT = (40, 1200)
MIN_INK_PIXELS = 40  # fewer dark pixels than a short stroke: an empty or accidental tap
PNG_DATA_URL = "data:image/png;base64,"


def StateError(message: str) -> ServiceError:
    """The record is not in a state that allows this (already accepted, not the latest...)."""
    return conflict("state", message, code="state")


@dataclass(frozen=True)
class SignedConsent:
    """What the patient signed: the text version shown, their typed name and drawn signature
    (empty bytes: a typed-name signature, which must be the patient's full name)."""

    shown_version: str
    signer_name: str
    signature_png: bytes
    ip_address: str | None = None


def decode_signature(data_url: str) -> bytes:
    """The PNG bytes of a drawn signature (a canvas data URL); InputError('signature') if not a
    PNG, too large, an odd size, or blank."""
    if not data_url:
        raise InputError("signature", "is missing: ask the patient to sign in the box")
    if not data_url.startswith(PNG_DATA_URL):
        raise InputError("signature", "must be a PNG image drawn in the signature box")
    encoded = data_url[len(PNG_DATA_URL) :]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise InputError("signature", "is too large (over 300 kB)")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("signature", "could not be read: sign again") from None
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise InputError("signature", "is too large (over 300 kB)")
    try:
        with Image.open(io.BytesIO(raw)) as img:
            if img.format != "PNG":
                raise InputError("signature", "must be a PNG image")
            width, height = img.size
            if not (
                SIGNATURE_WIDTH[0] <= width <= SIGNATURE_WIDTH[1]
                and SIGNATURE_HEIGHT[0] <= height <= SIGNATURE_HEIGHT[1]
            ):
                raise InputError("signature", f"has an unexpected size ({width}x{height} pixels)")
            ink = _ink_pixels(img)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise InputError("signature", "is not a readable PNG image") from None
    if ink < MIN_INK_PIXELS:
        raise InputError("signature", "is blank: ask the patient to sign in the box")
    return raw


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def _ink_pixels(img: Image.Image) -> int:
    """Dark pixels once the (often transparent) drawing is laid on white paper."""
    drawing = img.convert("RGBA")
    paper = Image.new("RGBA", drawing.size, (255, 255, 255, 255))
    paper.alpha_composite(drawing)
    return sum(paper.convert("L").histogram()[:160])


def create_consultation(
    actor: Actor,
    patient: Patient,
    intake: cp.Intake,
    assessment: cp.Assessment,
    fitzpatrick: str,
    as_of: date | None = None,
) -> Consultation:
    """Screen, plan, and store the consultation with the core's answers; save the phototype.
    Booked treatments the new screening makes unsafe are flagged.

    Raises ServiceError (naming a core field) and writes nothing if the core refuses the inputs.
    """
    actor.require(CLINICAL, "recording a consultation")
    actor.own(patient, "patient")
    as_of = as_of or clock.today()
    kb = knowledge()
    previous = patient.fitzpatrick
    patient.fitzpatrick = fitzpatrick
    try:
        who = core_patient(patient, as_of)
        recognition = recognise(intake, kb)
        screening = screen(who, intake, kb, as_of, recognition.facts)
        proposal = make_plan(who, assessment, screening, kb)
    except InputError as err:
        patient.fitzpatrick = previous
        raise ServiceError.of(err) from None
    status = Consultation.Status.CLOSED if proposal.status == "not_safe" else None
    with transaction.atomic():
        patient.save(update_fields=["fitzpatrick"])
        consultation = Consultation.objects.create(
            patient=patient,
            practitioner=actor.staff,
            as_of=as_of,
            intake=intake.model_dump(mode="json"),
            assessment=assessment.model_dump(mode="json"),
            screening=screening.to_dict(),
            proposal=proposal.to_dict(),
            recognition=recognition.to_dict(),
            knowledge_version=kb.version,
            status=status or Consultation.Status.OPEN,
        )
        record(actor, Action.CREATE, consultation, summary="consultation with screening")
        safety.recheck_bookings(actor, patient)
    return consultation


def recognition_of(consultation: Consultation) -> Recognition:
    return Recognition.from_dict(consultation.recognition or {})


def confirm_facts(actor: Actor, consultation: Consultation, keep: Sequence[int]) -> Consultation:
    """The practitioner's check of what was recognised from the free text: the facts at `keep`
    (indices) are confirmed, the others removed; screening and proposal are made again from the
    confirmed facts. Only while the consultation is open (409 otherwise)."""
    actor.require(CLINICAL, "confirming what the screening recognised")
    actor.own(consultation, "consultation")
    recognition = recognition_of(consultation)
    bad = [i for i in keep if not 0 <= i < len(recognition.facts)]
    if bad:
        raise ServiceError("keep", f"no recognised fact number {bad[0]}")
    facts = tuple(replace(recognition.facts[i], confirmed=True) for i in sorted(set(keep)))
    confirmed = replace(recognition, facts=facts)
    kb = knowledge()
    who, assessment = core_inputs_of(consultation)
    intake = cp.Intake.model_validate(consultation.intake)
    try:
        screening = screen(who, intake, kb, consultation.as_of, facts)
        proposal = make_plan(who, assessment, screening, kb)
    except InputError as err:
        raise ServiceError.of(err) from None
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.status != Consultation.Status.OPEN and proposal.status != "not_safe":
            raise StateError(f"this consultation is {locked.get_status_display().lower()}")
        locked.recognition = confirmed.to_dict()
        locked.screening = screening.to_dict()
        locked.proposal = proposal.to_dict()
        if proposal.status == "not_safe":
            locked.status = Consultation.Status.CLOSED
        locked.save(update_fields=["recognition", "screening", "proposal", "status"])
        removed = len(recognition.facts) - len(facts)
        record(actor, Action.UPDATE, locked, summary=f"facts confirmed ({removed} removed)")
        safety.recheck_bookings(actor, consultation.patient)
    return locked


def core_inputs_of(consultation: Consultation) -> tuple[cp.Patient, cp.Assessment]:
    """The patient (phototype as now recorded) and assessment the consultation planned for."""
    return core_patient(consultation.patient, consultation.as_of), core_assessment(consultation)


def plan_bounds(consultation: Consultation, content: dict) -> list[dict]:
    """Per course and treatment, the limits a form may offer (see dermis.core.adjust.limits).

    InputError if the plan names an area, concern or device the knowledge base no longer has
    (a plan stored under an older or different knowledge base)."""
    who, assessment = core_inputs_of(consultation)
    try:
        return limits(content, who, assessment, consultation.screening, knowledge())
    except KeyError as err:
        raise InputError("knowledge", f"the knowledge base no longer has {err}") from None


def consent_text_for(content: dict) -> ConsentText:
    return consent_for(c.modality for c in Plan.from_dict(content).courses)


def _next_version(patient: Patient) -> TreatmentPlan | None:
    # Lock the patient row: two acceptances or revisions at once take turns for the number.
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    return TreatmentPlan.objects.filter(patient=patient).order_by("-version").first()


def signed_at_home(consultation: Consultation, version: str) -> ConsentRecord | None:
    """The consent to this consultation's plan the patient signed at home (no witness), for
    the text version the plan needs."""
    return (
        ConsentRecord.objects.filter(
            consultation=consultation, text_version=version, witnessed_by__isnull=True
        )
        .order_by("-signed_at", "-pk")
        .first()
    )


def accept_plan(
    actor: Actor,
    consultation: Consultation,
    changes: Sequence[Change],
    consent: SignedConsent,
) -> tuple[TreatmentPlan, Adjusted]:
    """Consent, plan version N+1 (the previous active one superseded) and the consultation
    marked accepted, in one transaction; booked treatments the plan makes unsafe are flagged.
    ServiceError (out of bounds, stale consent text, 409 not open) writes nothing."""
    actor.require(CLINICAL, "accepting a plan")
    actor.own(consultation, "consultation")
    user = actor.user
    if recognition_of(consultation).pending:
        raise ServiceError(
            "facts",
            "confirm or correct what was recognised from the patient's own words first",
        )
    proposal = Plan.from_dict(consultation.proposal)
    if proposal.status == "not_safe" or not proposal.courses:
        raise StateError("nothing can be planned safely from this consultation")
    # No name and no signature: the patient signed this consultation's consent at home.
    at_home = not consent.signer_name.strip() and not consent.signature_png
    if not at_home and not consent.signer_name.strip():
        raise ServiceError("signer_name", "is required")
    if (
        not at_home
        and not consent.signature_png
        and _folded(consent.signer_name) != _folded(consultation.patient.full_name)
    ):
        # A typed signature is the patient's own full name, as on the record.
        raise ServiceError(
            "signer_name", "a typed signature must be the patient's full name as on the record"
        )
    who, assessment = core_inputs_of(consultation)
    try:
        adjusted = adjust(
            consultation.proposal, changes, who, assessment, consultation.screening, knowledge()
        )
    except InputError as err:
        raise ServiceError.of(err) from None
    text = consent_text_for(adjusted.content)
    home = signed_at_home(consultation, text.version) if at_home else None
    if at_home and home is None:
        raise ServiceError(
            "signer_name",
            "is required: the patient has not signed this plan's consent text at home",
        )
    if home is None and consent.shown_version != text.version:
        raise ServiceError(
            "consent_version",
            "the consent text has changed since the page was opened: read the new text with "
            "the patient and sign again",
        )
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.status != Consultation.Status.OPEN:
            raise StateError(f"this consultation is {locked.get_status_display().lower()}")
        latest = _next_version(consultation.patient)
        record_ = home or ConsentRecord.objects.create(
            patient=consultation.patient,
            consultation=consultation,
            text_version=text.version,
            text=text.text,
            text_sha256=text.sha256,
            signature_png=consent.signature_png,
            signer_name=consent.signer_name.strip(),
            witnessed_by=user,
            ip_address=consent.ip_address,
        )
        seal_consent(record_)
        if latest is not None and latest.status == TreatmentPlan.Status.ACTIVE:
            latest.status = TreatmentPlan.Status.SUPERSEDED
            latest.save(update_fields=["status"])
        plan = TreatmentPlan.objects.create(
            patient=consultation.patient,
            consultation=consultation,
            consent=record_,
            version=latest.version + 1 if latest else 1,
            previous=latest,
            content=adjusted.content,
            adjustments=adjusted.adjustments,
            created_by=user,
        )
        locked.status = Consultation.Status.ACCEPTED
        locked.save(update_fields=["status"])
        if home is None:
            record(actor, Action.SIGN, record_, summary="consent signed")
        record(actor, Action.CREATE, plan, summary=f"plan version {plan.version} accepted")
        recall_sync.changed(plan.patient)
        safety.recheck_bookings(actor, consultation.patient)
    consultation.status = locked.status
    return plan, adjusted


def revise_plan(
    actor: Actor, plan: TreatmentPlan, changes: Sequence[Change], note: str = ""
) -> tuple[TreatmentPlan, Adjusted]:
    """A new version of the active plan with `changes` inside the same bounds; the old version
    is superseded and otherwise untouched. The consent carries over (same modalities).
    Booked treatments the new version makes unsafe are flagged."""
    actor.require(CLINICAL, "revising a plan")
    actor.own(plan, "plan")
    user = actor.user
    consultation = plan.consultation
    who, assessment = core_inputs_of(consultation)
    try:
        adjusted = adjust(
            plan.content,
            changes,
            who,
            assessment,
            consultation.screening,
            knowledge(),
            history=plan.adjustments,
        )
    except InputError as err:
        raise ServiceError.of(err) from None
    if not adjusted.changes:
        raise ServiceError("changes", "nothing was changed: change a setting to make a new version")
    with transaction.atomic():
        latest = _next_version(plan.patient)
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != TreatmentPlan.Status.ACTIVE or latest is None or latest.pk != plan.pk:
            raise StateError("only the active, latest version of a plan can be revised")
        locked.status = TreatmentPlan.Status.SUPERSEDED
        locked.save(update_fields=["status"])
        revised = TreatmentPlan.objects.create(
            patient=plan.patient,
            consultation=consultation,
            consent=locked.consent,
            version=locked.version + 1,
            previous=locked,
            content=adjusted.content,
            adjustments=adjusted.adjustments,
            note=note.strip(),
            created_by=user,
        )
        record(actor, Action.CREATE, revised, summary=f"plan version {revised.version} (revision)")
        recall_sync.changed(revised.patient)
        safety.recheck_bookings(actor, plan.patient)
    return revised, adjusted


def complete_plan(actor: Actor, plan: TreatmentPlan) -> TreatmentPlan:
    """Mark the active plan completed: its course is done. It stays the patient's latest version
    (follow-ups and grades still refer to it); a new course starts from a new consultation."""
    actor.require(CLINICAL, "completing a plan")
    actor.own(plan, "plan")
    with transaction.atomic():
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != TreatmentPlan.Status.ACTIVE:
            raise StateError(
                f"version {locked.version} of the plan is {locked.get_status_display().lower()}"
            )
        locked.status = TreatmentPlan.Status.COMPLETED
        locked.save(update_fields=["status"])
        record(actor, Action.UPDATE, locked, summary=f"plan version {locked.version} completed")
        recall_sync.changed(locked.patient)
    plan.status = locked.status
    return plan
