"""A patient's whole record (consultation to reminder), built through the core, for API tests."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from dermis.core import patient as cp
from dermis.core.planning import plan
from dermis.core.screening import screen
from dermis.web.clinic import core_inputs
from dermis.web.clinic import models as m

LONDON = ZoneInfo("Europe/London")
AS_OF = date(2025, 3, 3)
INTAKE = {"rosacea": True, "medications": ["none"]}
ASSESSMENT = {
    "skin_thickness": "normal",
    "concerns": [
        {"area": "cheeks", "concern": "acne_scars_rolling", "severity": 3},
        {"area": "forehead", "concern": "fine_lines", "severity": 2},
    ],
}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class Record:
    consultation: m.Consultation
    consent: m.ConsentRecord
    plan: m.TreatmentPlan
    appointment: m.Appointment
    session: m.TreatmentSession
    photo: m.Photo
    photo_file: Path
    grade: m.FollowUpGrade
    reminder: m.Reminder


def journey(patient: m.Patient, practitioner: m.StaffMember, photo_root: Path) -> Record:
    patient.fitzpatrick = "III"
    patient.save()
    kb = core_inputs.knowledge()
    who = core_inputs.core_patient(patient, AS_OF)
    intake, assessment = cp.Intake(**INTAKE), cp.Assessment(**ASSESSMENT)
    screening = screen(who, intake, kb, AS_OF)
    proposal = plan(who, assessment, screening, kb)
    consultation = m.Consultation.objects.create(
        patient=patient,
        practitioner=practitioner,
        as_of=AS_OF,
        intake=intake.model_dump(mode="json"),
        assessment=assessment.model_dump(mode="json"),
        screening=screening.to_dict(),
        proposal=proposal.to_dict(),
        knowledge_version=kb.version,
        status=m.Consultation.Status.ACCEPTED,
    )
    text = "I agree to microneedling."
    consent = m.ConsentRecord.objects.create(
        patient=patient,
        consultation=consultation,
        text_version="2025-01",
        text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        signature_png=PNG,
        signer_name=patient.full_name,
    )
    first = m.TreatmentPlan.objects.create(
        patient=patient,
        consultation=consultation,
        version=1,
        content=proposal.to_dict(),
        status=m.TreatmentPlan.Status.SUPERSEDED,
    )
    current = m.TreatmentPlan.objects.create(
        patient=patient,
        consultation=consultation,
        consent=consent,
        version=2,
        previous=first,
        content=proposal.to_dict(),
        note="Shallower on the forehead.",
    )
    start = datetime(2025, 3, 10, 10, 0, tzinfo=LONDON)
    appointment = m.Appointment.objects.create(
        clinic=patient.clinic,
        patient=patient,
        practitioner=practitioner,
        plan=current,
        start=start,
        end=start + timedelta(hours=1),
        status=m.Appointment.Status.COMPLETED,
    )
    session = m.TreatmentSession.objects.create(
        patient=patient,
        plan=current,
        appointment=appointment,
        practitioner=practitioner,
        performed_at=start,
        modality="microneedling",
        device="automated_pen",
        notes="Tolerated well.",
    )
    m.SessionArea.objects.create(session=session, area="cheeks", depth_mm=Decimal("1.00"))
    m.SessionArea.objects.create(
        session=session, area="forehead", depth_mm=Decimal("0.50"), passes=2
    )
    # Finalised last, as the charting page does: a final session's areas are locked.
    m.TreatmentSession.objects.filter(pk=session.pk).update(
        status=m.TreatmentSession.Status.FINAL, finalised_at=start + timedelta(hours=1)
    )
    session.refresh_from_db()
    m.SessionAddendum.objects.create(session=session, text="Mild redness on day 2.")
    photo_root.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(20) + ".png"
    (photo_root / name).write_bytes(PNG)
    photo = m.Photo.objects.create(
        patient=patient,
        session=session,
        area="cheeks",
        storage_name=name,
        content_type="image/png",
        width=1,
        height=1,
        size_bytes=len(PNG),
        sha256=hashlib.sha256(PNG).hexdigest(),
    )
    grade = m.FollowUpGrade.objects.create(
        patient=patient, plan=current, area="cheeks", concern="acne_scars_rolling", grade=2,
        baseline=3, graded_on=date(2025, 6, 1), notes="Better.",
    )  # fmt: skip
    reminder = m.Reminder.objects.create(
        key=f"appointment:{appointment.pk}:appointment:email",
        patient=patient,
        appointment=appointment,
        kind=m.Reminder.Kind.APPOINTMENT,
        due_at=start - timedelta(days=1),
        status=m.Reminder.Status.SENT,
        sent_at=start - timedelta(days=1),
    )
    return Record(
        consultation, consent, current, appointment, session, photo, photo_root / name, grade,
        reminder,
    )  # fmt: skip
