"""Tamper evidence over the API: is a finalised session or a signed consent as it was sealed?

Clinical roles only, the clinic's own records (another clinic's is a 404). The answer names the
algorithm (`hmac-sha256`, keyed; `sha256`, unkeyed, for records signed before seals), never the
key. Each check is audited.
"""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router

from dermis.web.api.auth import clinic_record, require_staff
from dermis.web.api.schemas import Out, PathId, Problem
from dermis.web.clinic import clock
from dermis.web.clinic.access import CLINICAL, audit
from dermis.web.clinic.charting.records import integrity
from dermis.web.clinic.consultations.consent_records import consent_integrity
from dermis.web.clinic.models import AuditEvent, ConsentRecord, TreatmentSession

router = Router(tags=["clinical record"])
REFUSED = {403: Problem, 404: Problem}


class IntegrityOut(Out):
    object_type: str = Field(description="session or consent")
    id: int
    intact: bool | None = Field(description="null: a draft session, nothing sealed yet")
    algorithm: str = Field(
        description="hmac-sha256 (keyed); sha256 (unkeyed, signed before seals); '' (a draft)"
    )
    sealed_at: datetime | None
    checked_at: datetime


@router.get(
    "/sessions/{session_id}/integrity",
    response={200: IntegrityOut, **REFUSED},
    summary="Check a finalised session against its seal",
)
def session_integrity(request, session_id: PathId):
    """Whether the session's record (fields, areas, signer and time) still matches the keyed
    seal taken when it was finalised."""
    staff = require_staff(request, CLINICAL)
    session = clinic_record(staff, TreatmentSession, session_id)
    audit(request, AuditEvent.Action.VIEW, session, summary="api: integrity checked")
    found = integrity(session)
    return {
        "object_type": "session",
        "id": session.pk,
        "intact": found.intact,
        "algorithm": found.algorithm,
        "sealed_at": session.finalised_at,
        "checked_at": clock.now(),
    }


@router.get(
    "/consents/{consent_id}/integrity",
    response={200: IntegrityOut, **REFUSED},
    summary="Check a signed consent against its seal",
)
def consent_integrity_check(request, consent_id: PathId):
    """Whether the consent (text, version, drawn signature, signer, time, witness) still
    matches the keyed seal taken when it was signed."""
    staff = require_staff(request, CLINICAL)
    consent = clinic_record(staff, ConsentRecord, consent_id)
    audit(request, AuditEvent.Action.VIEW, consent, summary="api: integrity checked")
    found = consent_integrity(consent)
    return {
        "object_type": "consent",
        "id": consent.pk,
        "intact": found.intact,
        "algorithm": found.algorithm,
        "sealed_at": consent.signed_at,
        "checked_at": clock.now(),
    }
