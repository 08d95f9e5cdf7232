"""What the record page shows of the patient's portal: the answers awaiting review, an erasure
request, and the patient's own impressions of change (`jinja2/clinic/portal/_staff_answers.html`,
`jinja2/clinic/followups/_patient_grades.html`)."""

from __future__ import annotations

from dermis.web.clinic.models import CheckIn, ErasureRequest, PortalIntake
from dermis.web.clinic.portal import checkins
from dermis.web.clinic.prepared import PreparedRows, PreparedValues
from dermis.web.clinic.together import Read

# The record page's panels: composed once per process (clinic/prepared.py).
REPORTED = PreparedRows(
    CheckIn,
    lambda patient: (
        CheckIn.objects.filter(patient_id=patient)
        .exclude(improvement=None)
        .order_by("-created_at", "-pk")
    ),
    patient=int,
)
ERASURE_ASKED = PreparedRows(
    ErasureRequest,
    lambda patient: ErasureRequest.objects.filter(patient_id=patient).order_by(
        *(ErasureRequest._meta.ordering or ["pk"])
    ),
    patient=int,
)

# When each of the patient's portal answers was reviewed (None: awaiting review).
REVIEWED = PreparedValues(
    PortalIntake,
    lambda patient: (
        PortalIntake.objects.filter(patient_id=patient)
        .order_by()
        .values_list("reviewed_at", flat=True)
    ),
    flat=True,
    patient=int,
)


def record_reads(patient) -> list[Read | None]:
    """What `patient_reported` and `portal_answers` read, for the record page to send together
    (`prepared.read_together`)."""
    return [
        REPORTED.ahead(10, patient=patient.pk),
        REVIEWED.ahead(patient=patient.pk),
        ERASURE_ASKED.ahead(1, patient=patient.pk),
    ]


def patient_reported(patient) -> list[dict]:
    """The patient's own impressions of change from their check-ins (newest first)."""
    rows = REPORTED.rows(10, patient=patient.pk, known={"patient": patient})
    return [
        {"row": c, "label": checkins.PGIC.get(c.improvement, ""), "score": c.improvement}
        for c in rows
    ]


def portal_answers(patient) -> dict:
    """How many portal answers the patient has, and how many await review."""
    reviewed = REVIEWED.rows(patient=patient.pk)
    asked = ERASURE_ASKED.rows(1, patient=patient.pk, known={"patient": patient})
    return {
        "count": len(reviewed),
        "waiting": sum(1 for at in reviewed if at is None),
        "erasure": asked[0] if asked else None,
    }
