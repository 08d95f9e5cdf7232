"""Every kind of record, in both clinics, for tests that must reach every page (the matrix)."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from PIL import Image

from dermis.core.planning import plan
from dermis.core.screening import screen
from dermis.web.clinic import core_inputs
from dermis.web.clinic.models import (
    Appointment,
    CalendarFeed,
    ConsentRecord,
    Consultation,
    FollowUpGrade,
    Patient,
    Photo,
    SessionAddendum,
    SessionArea,
    StaffMember,
    TreatmentPlan,
    TreatmentSession,
)

LONDON = ZoneInfo("Europe/London")
INTAKE: dict = {}
ASSESSMENT = {
    "skin_thickness": "normal",
    "concerns": [{"area": "cheeks", "concern": "acne_scars_rolling", "severity": 3}],
}


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (20, 20, 20)).save(buf, "PNG")
    return buf.getvalue()


def _photo_file() -> tuple[str, bytes]:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (210, 170, 150)).save(buf, "JPEG")
    data = buf.getvalue()
    name = f"{uuid.uuid4().hex}.jpg"
    root = settings.PHOTO_ROOT
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(data)
    return name, data


def journey(patient: Patient, practitioner: StaffMember) -> dict[str, object]:
    """A consultation, an accepted plan with consent, a finalised session, a photo, a grade."""
    patient.fitzpatrick = "III"
    patient.save()
    kb = core_inputs.knowledge()
    today = date(2026, 11, 23)
    cpatient = core_inputs.core_patient(patient, today)
    intake = core_inputs.cp.Intake.model_validate(INTAKE)
    assessment = core_inputs.cp.Assessment.model_validate(ASSESSMENT)
    found = screen(cpatient, intake, kb, today)
    proposal = plan(cpatient, assessment, found, kb)
    consultation = Consultation.objects.create(
        patient=patient,
        practitioner=practitioner,
        as_of=today,
        intake=intake.model_dump(mode="json"),
        assessment=assessment.model_dump(mode="json"),
        screening=found.to_dict(),
        proposal=proposal.to_dict(),
        knowledge_version=kb.version,
        status=Consultation.Status.ACCEPTED,
    )
    text = "I consent to microneedling."
    consent = ConsentRecord.objects.create(
        patient=patient,
        consultation=consultation,
        text_version="test-1",
        text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        signature_png=_png(),
        signer_name=patient.full_name,
        witnessed_by=practitioner.user,
    )
    treatment_plan = TreatmentPlan.objects.create(
        patient=patient,
        consultation=consultation,
        consent=consent,
        version=1,
        content=proposal.to_dict(),
        created_by=practitioner.user,
    )
    start = datetime(2026, 11, 20, 10, 0, tzinfo=LONDON)
    appointment = Appointment.objects.create(
        clinic=patient.clinic,
        patient=patient,
        practitioner=practitioner,
        plan=treatment_plan,
        start=start,
        end=start + timedelta(hours=1),
        status=Appointment.Status.COMPLETED,
    )
    session = TreatmentSession.objects.create(
        patient=patient,
        plan=treatment_plan,
        appointment=appointment,
        practitioner=practitioner,
        performed_at=start,
        modality="microneedling",
        device="automated_pen",
        cartridge="36-pin",
        lot_number="LOT-1",
        endpoint=TreatmentSession.Endpoint.ERYTHEMA,
    )
    SessionArea.objects.create(session=session, area="cheeks", depth_mm=1.0, passes=2)
    addendum = SessionAddendum.objects.create(session=session, author=practitioner.user, text="ok")
    draft = TreatmentSession.objects.create(
        patient=patient,
        plan=treatment_plan,
        practitioner=practitioner,
        performed_at=start + timedelta(days=1),
        modality="microneedling",
        device="automated_pen",
    )
    name, data = _photo_file()
    photo = Photo.objects.create(
        patient=patient,
        session=session,
        area="cheeks",
        stage=Photo.Stage.BEFORE,
        taken_on=start.date(),
        storage_name=name,
        content_type="image/jpeg",
        width=64,
        height=48,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=practitioner.user,
    )
    grade = FollowUpGrade.objects.create(
        patient=patient,
        plan=treatment_plan,
        area="cheeks",
        concern="acne_scars_rolling",
        grade=2,
        baseline=3,
        graded_by=practitioner.user,
    )
    feed = CalendarFeed.objects.create(
        token_sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        staff=practitioner,
        created_by=practitioner.user,
    )
    return {
        "consultation": consultation,
        "consent": consent,
        "plan": treatment_plan,
        "appointment": appointment,
        "session": session,
        "draft_session": draft,
        "addendum": addendum,
        "photo": photo,
        "grade": grade,
        "feed": feed,
    }
