"""The portal's writes: a patient's intake answered at home, and a first consultation booked from
the public directory (registration and booking through the patients and scheduling services)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from pydantic import ValidationError

from dermis.core import patient as cp
from dermis.core.errors import InputError
from dermis.core.recognition import recognise
from dermis.core.screening import Screening, screen
from dermis.web.clinic import clock
from dermis.web.clinic.actors import CLINICAL, PATIENT, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.errors import ServiceError, conflict
from dermis.web.clinic.models import (
    MODALITIES,
    Appointment,
    ErasureRequest,
    Location,
    Patient,
    PortalIntake,
    StaffMember,
)
from dermis.web.clinic.patients import services as patients
from dermis.web.clinic.scheduling import services as scheduling

CONSULTATION_MINUTES = 30
# Until a practitioner records the phototype, the patient's answers are screened as the lightest
# skin type: the only findings that depend on it are cautions, never a refusal.
UNSEEN_PHOTOTYPE = cp.Phototype.I


def screen_answers(patient: Patient, intake: cp.Intake) -> tuple[Screening, dict]:
    """The screening of the patient's own answers today, and what it recognised in the text."""
    kb = knowledge()
    today = clock.today()
    try:
        who = cp.Patient(
            age=patient.age_on(today),
            sex=patient.sex,
            fitzpatrick=cp.Phototype(patient.fitzpatrick or UNSEEN_PHOTOTYPE),
        )
    except ValidationError:
        raise ServiceError(
            "date_of_birth",
            f"we can only book people aged {cp.MIN_AGE} or over online: please call the clinic",
        ) from None
    try:
        recognition = recognise(intake, kb)
        screening = screen(who, intake, kb, today, recognition.facts)
    except InputError as err:
        raise ServiceError.of(err) from None
    return screening, recognition.to_dict()


def submit_intake(
    actor: Actor, patient: Patient, intake: cp.Intake, modality: str = ""
) -> PortalIntake:
    """The patient's answers, screened, stored for the practitioner to review."""
    actor.require((PATIENT,), "answering the health questions for a patient")
    actor.require_self(patient)
    if modality and modality not in dict(MODALITIES):
        raise ServiceError("interest", "is not a treatment the clinic offers")
    screening, recognition = screen_answers(patient, intake)
    with transaction.atomic():
        row = PortalIntake.objects.create(
            patient=patient,
            modality=modality,
            answers=intake.model_dump(mode="json"),
            screening=screening.to_dict(),
            recognition=recognition,
            submitted_at=clock.now(),
        )
        record(actor, Action.CREATE, row, patient=patient, summary="health questions answered")
    return row


def review_intake(actor: Actor, intake: PortalIntake) -> PortalIntake:
    """The practitioner has read the patient's answers (and carries them into the consultation)."""
    actor.require(CLINICAL, "reviewing a patient's answers")
    actor.own(intake, "intake")
    with transaction.atomic():
        locked = PortalIntake.objects.select_for_update().get(pk=intake.pk)
        if locked.reviewed_at is not None:
            raise conflict("intake", "these answers were already reviewed")
        locked.reviewed_at = clock.now()
        locked.reviewed_by = actor.user
        locked.save(update_fields=["reviewed_at", "reviewed_by"])
        record(actor, Action.UPDATE, locked, summary="portal answers reviewed")
    return locked


@dataclass(frozen=True)
class FirstBooking:
    patient: Patient
    appointment: Appointment
    intake: PortalIntake


def book_first_consultation(
    actor: Actor,
    *,
    practitioner: StaffMember,
    location: Location | None,
    start: datetime,
    details: dict,
    intake: cp.Intake,
    modality: str = "",
) -> FirstBooking:
    """A new patient registers, answers the health questions and books a consultation, all or
    nothing. `actor` is the public (Actor.public) of the practitioner's clinic."""
    if not practitioner.listed_in_directory or practitioner.clinic_id != actor.clinic.pk:
        raise ServiceError("practitioner", "is not listed for online booking")
    with transaction.atomic():
        patient = patients.register_patient(actor, **details)
        as_patient = Actor.of_patient(patient, path=actor.path, ip_address=actor.ip_address)
        answered = submit_intake(as_patient, patient, intake, modality)
        appointment = scheduling.book_appointment(
            as_patient,
            patient,
            practitioner=practitioner,
            start=start,
            end=start + timedelta(minutes=CONSULTATION_MINUTES),
            kind=Appointment.Kind.CONSULTATION,
            location=location,
        )
    return FirstBooking(patient, appointment, answered)


def request_erasure(actor: Actor, patient: Patient, reason: str = "") -> ErasureRequest:
    """The patient asks the clinic to erase their record (the clinic decides and erases)."""
    actor.require((PATIENT,), "asking for erasure")
    actor.require_self(patient)
    with transaction.atomic():
        if patient.erasure_requests.exists():
            raise conflict("reason", "you have already asked: the clinic will contact you")
        row = ErasureRequest.objects.create(
            patient=patient, reason=reason.strip()[:2000], requested_at=clock.now()
        )
        record(actor, Action.CREATE, row, patient=patient, summary="erasure requested")
    return row
