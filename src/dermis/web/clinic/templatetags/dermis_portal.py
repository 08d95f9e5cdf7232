"""`{% portal_alerts as alerts %}`: check-ins with a warning sign awaiting a practitioner."""

from __future__ import annotations

from django import template

from dermis.web.clinic.models import CheckIn, ErasureRequest, PortalIntake
from dermis.web.clinic.portal import checkins
from dermis.web.clinic.prepared import PreparedRows, PreparedValues
from dermis.web.clinic.together import Read

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_alerts(context) -> list:
    """Unacknowledged alerts of the staff member's clinic; nothing for non-clinical staff."""
    staff = context.get("staff")
    if staff is None or not staff.is_clinical:
        return []
    alerts = list(checkins.open_alerts(staff.clinic))
    for c in alerts:
        c.warning_texts = [checkins.WARNING_SIGNS.get(w, w) for w in c.warnings]
    return alerts


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


@register.simple_tag
def patient_reported(patient) -> list[dict]:
    """The patient's own impressions of change from their check-ins (newest first)."""
    rows = REPORTED.rows(10, patient=patient.pk, known={"patient": patient})
    return [
        {"row": c, "label": checkins.PGIC.get(c.improvement, ""), "score": c.improvement}
        for c in rows
    ]


@register.simple_tag
def portal_answers(patient) -> dict:
    """How many portal answers the patient has, and how many await review."""
    reviewed = REVIEWED.rows(patient=patient.pk)
    asked = ERASURE_ASKED.rows(1, patient=patient.pk, known={"patient": patient})
    return {
        "count": len(reviewed),
        "waiting": sum(1 for at in reviewed if at is None),
        "erasure": asked[0] if asked else None,
    }
