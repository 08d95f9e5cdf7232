"""The audit trail's one writer: `record(actor, action, obj)`, inside the caller's transaction.

A service calls it inside its own `transaction.atomic()`, so a change and its audit row commit
together or not at all. `summary` never holds patient data (names, notes, findings): ids and kinds.
"""

from __future__ import annotations

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import AuditEvent, Patient

Action = AuditEvent.Action


def record(
    actor: Actor,
    action: str,
    obj: object | None = None,
    *,
    patient: Patient | None = None,
    summary: str = "",
) -> AuditEvent:
    if patient is None and obj is not None:
        patient = obj if isinstance(obj, Patient) else getattr(obj, "patient", None)
    prefix = "" if actor.channel == "web" else f"{actor.channel}: "
    return AuditEvent.objects.create(
        clinic=actor.clinic,
        user=actor.user,
        username=actor.username,
        patient_id_ref=patient.pk if patient else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "pk", "") or ""),
        summary=(prefix + summary)[:200],
        path=actor.path[:300],
        ip_address=actor.ip_address,
    )


def record_many(
    actor: Actor, action: str, patients: list[Patient], *, summary: str = ""
) -> list[AuditEvent]:
    """One event per patient in one INSERT (a list page that shows many patients' records)."""
    prefix = "" if actor.channel == "web" else f"{actor.channel}: "
    rows = [
        AuditEvent(
            clinic=actor.clinic,
            user=actor.user,
            username=actor.username,
            patient_id_ref=p.pk,
            action=action,
            object_type="Patient",
            object_id=str(p.pk),
            summary=(prefix + summary)[:200],
            path=actor.path[:300],
            ip_address=actor.ip_address,
        )
        for p in patients
    ]
    return AuditEvent.objects.bulk_create(rows) if rows else []
