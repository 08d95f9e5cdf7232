"""The audit trail's one writer: `record(actor, action, obj)`, inside the caller's transaction.

A service calls it inside its own `transaction.atomic()`, so a change and its audit row commit
together or not at all. Each event is chained to the one before by a keyed hash (the model's
save, audit_chain.py), checked by `dermis audit verify`. `summary` never holds patient data
(names, notes, findings): ids and kinds.
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
    object_type: str = "",
    object_id: str = "",
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
        object_type=(type(obj).__name__ if obj is not None else object_type)[:40],
        object_id=(str(getattr(obj, "pk", "") or "") if obj is not None else object_id)[:40],
        summary=(prefix + summary)[:200],
        path=actor.path[:300],
        ip_address=actor.ip_address,
    )


def record_many(
    actor: Actor, action: str, patients: list[Patient], *, summary: str = ""
) -> list[AuditEvent]:
    """One event per patient, chained in order and written in one INSERT."""
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
    return AuditEvent.append_many(rows)
