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
    """One event per patient, chained in order and written in one INSERT. (Given by ids, not
    objects: a list page writes a hundred, and setting each one's clinic and user through the
    related fields cost more than the rest of building it.)"""
    prefix = "" if actor.channel == "web" else f"{actor.channel}: "
    shared = {
        "clinic_id": actor.clinic.pk if actor.clinic else None,
        "user_id": actor.user.pk if actor.user else None,
        "username": actor.username,
        "action": action,
        "object_type": "Patient",
        "summary": (prefix + summary)[:200],
        "path": actor.path[:300],
        "ip_address": actor.ip_address,
    }
    rows = [AuditEvent(patient_id_ref=p.pk, object_id=str(p.pk), **shared) for p in patients]
    return AuditEvent.append_many(rows)
