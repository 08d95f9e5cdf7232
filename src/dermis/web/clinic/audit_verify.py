"""Walk the audit chain and name the first event that breaks it (`dermis audit verify`).

Detected: a deleted event (a gap in the numbers, or the head ahead of the last event), an altered
event (its hash no longer matches its content, or the patients it lists were changed), a forged
one (inserted without the record key, or without a number at all). Not detectable from inside the
database alone: the newest events deleted together with the head moved back; compare the printed
head with one kept elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from dermis.web.clinic import seals
from dermis.web.clinic.audit_chain import GENESIS, link
from dermis.web.clinic.models import AuditChainHead, AuditEvent, AuditEventPatient

LISTS_KEPT = 10_000


@dataclass(frozen=True)
class ChainReport:
    events: int
    head_seq: int
    head_hash: str
    broken_event_id: int | None = None
    broken_seq: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return not self.reason


def verify_chain() -> ChainReport:
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, GENESIS)

    def broken(event: AuditEvent | None, count: int, reason: str) -> ChainReport:
        return ChainReport(
            count, head_seq, head_hash, event.pk if event else None,
            event.seq if event else None, reason,
        )  # fmt: skip

    stray = AuditEvent.objects.filter(seq__isnull=True).order_by("id").first()
    if stray is not None:
        return broken(stray, 0, "not in the chain: written around the audit writer (forged?)")
    previous, expected = GENESIS, 1
    for event in _events_in_order():
        if event.seq != expected:
            missing = f"{expected}" if event.seq == expected + 1 else f"{expected}-{event.seq - 1}"
            return broken(event, expected - 1, f"event number {missing} before it was deleted")
        if not seals.same(link(previous, event), event.chain_hash):
            return broken(
                event, expected - 1, "altered or forged: its hash does not match its content"
            )
        previous, expected = event.chain_hash, expected + 1
    count = expected - 1
    if head is None and count:
        return broken(None, count, "the chain head is missing")
    if head is not None and head.seq > count:
        return broken(None, count, f"events {count + 1}-{head.seq} (the newest) were deleted")
    if head is not None and (head.seq != count or not seals.same(head.last_hash, previous)):
        return broken(None, count, "the chain head does not match the last event")
    return ChainReport(count, head_seq, head_hash)


def _events_in_order(chunk: int = 2000):
    """Every event by number, each with the patients it lists (`listed_ids`, as its writer set
    them: one query per chunk of events)."""
    events = AuditEvent.objects.order_by("seq").prefetch_related("listed")
    lists: dict[int, list[int]] = {}  # the newest lists, for events listed like them
    for event in events.iterator(chunk_size=chunk):
        event.listed_ids = [row.patient_id_ref for row in event.listed.all()]
        if event.listed_ids:
            lists[event.pk] = event.listed_ids
            if len(lists) > LISTS_KEPT:
                del lists[next(iter(lists))]
        elif event.listed_like is not None:
            like = lists.get(event.listed_like)
            if like is None:  # long before, or not there (the hash then says so)
                rows = AuditEventPatient.objects.filter(event_id=event.listed_like)
                like = list(rows.values_list("patient_id_ref", flat=True))
            event.listed_ids = like
        yield event
