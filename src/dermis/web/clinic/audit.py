"""The audit trail's one writer: `record(actor, action, obj)`, inside the caller's transaction
(and `record_many` for a list page's patients).

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
    """Who saw a list page's patients: one event. One patient is the event's own (as `record`
    writes it); several are listed beside it (`AuditEventPatient`, covered by its chain hash) and
    counted in its summary. (A worklist of fifty had written fifty chained events, a third of the
    page's time; the patients are kept all the same, and `AuditEvent.objects.about_patient`
    finds the event from any of them.)"""
    ids = list(dict.fromkeys(p.pk for p in patients))
    if not ids:
        return []
    prefix = "" if actor.channel == "web" else f"{actor.channel}: "
    if len(ids) > 1:
        summary = f"{summary}, {len(ids)} patients" if summary else f"{len(ids)} patients"
    event = AuditEvent(
        clinic_id=actor.clinic.pk if actor.clinic else None,
        user_id=actor.user.pk if actor.user else None,
        username=actor.username,
        patient_id_ref=ids[0] if len(ids) == 1 else None,
        action=action,
        object_type="Patient",
        object_id=str(ids[0]) if len(ids) == 1 else "",
        summary=(prefix + summary)[:200],
        path=actor.path[:300],
        ip_address=actor.ip_address,
    )
    if len(ids) > 1:
        event.listed_ids = ids
    return AuditEvent.append_many([event])
