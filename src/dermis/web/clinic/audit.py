"""The audit trail's one writer: `record(actor, action, obj)`, inside the caller's transaction
(and `record_many` for a list page's patients).

A service calls it inside its own `transaction.atomic()`, so a change and its audit row commit
together or not at all. Each event is chained to the one before by a keyed hash (the model's
save, audit_chain.py), checked by `dermis audit verify`. `summary` never holds patient data
(names, notes, findings): ids and kinds.
"""

from __future__ import annotations

from django.db import connections, router

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import AuditEvent, Patient
from dermis.web.clinic.process_memo import ProcessMemo

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
    listed: list[int] | None = None,
    like: tuple[int, str] | None = None,
) -> AuditEvent:
    """`listed`: the patients an event about several lists (`record_many`), its hash covering
    them; `like`: an earlier event (its id and chain hash) that lists the same, where PostgreSQL
    then writes them no second time."""
    if patient is None and obj is not None:
        patient = obj if isinstance(obj, Patient) else getattr(obj, "patient", None)
    prefix = "" if actor.channel == "web" else f"{actor.channel}: "
    event = AuditEvent(
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
    if listed:
        event.listed_ids = list(listed)
        event.like_candidate = like
    event.save()
    return event


def record_many(
    actor: Actor, action: str, patients: list[Patient], *, summary: str = ""
) -> list[AuditEvent]:
    """Who saw a list page's patients: one event. One patient is the event's own (as `record`
    writes it); several are listed beside it (`AuditEventPatient`, covered by its chain hash) and
    counted in its summary. (A worklist of fifty had written fifty chained events, a third of the
    page's time; the patients are kept all the same, and `AuditEvent.objects.about_patient`
    finds the event from any of them.)"""
    unique = list({p.pk: p for p in patients}.values())
    if not unique:
        return []
    if len(unique) == 1:
        return [record(actor, action, unique[0], summary=summary)]
    counted = f"{summary}, {len(unique)} patients" if summary else f"{len(unique)} patients"
    ids = [p.pk for p in unique]
    # The same patients as an event this process wrote before (a worklist viewed again) are
    # written once: this event lists them like that one (`AuditEvent.listed_like`).
    alias = router.db_for_write(AuditEvent)
    key = (alias, actor.clinic.pk if actor.clinic else None, tuple(sorted(ids)))
    outside = not connections[alias].in_atomic_block
    event = record(
        actor, action, object_type="Patient", summary=counted, listed=ids, like=LISTS.get(key)
    )
    if event.listed_like is None and outside and connections[alias].vendor == "postgresql":
        LISTS.put(key, (event.pk, event.chain_hash))  # committed: another event may point at it
    return [event]


# The events this process wrote that list several patients, by whose they are: (id, chain hash).
LISTS = ProcessMemo(size=256)
