"""The audit trail as a hash chain: each event carries a keyed hash (HMAC-SHA256, clinic/seals.py)
of its own canonical content and the previous event's hash, in one global sequence.

A deleted event leaves a gap in the sequence and the next event's hash no longer follows; an
altered or inserted event cannot be given a matching hash without the record key. Writers take
the chain head row with SELECT ... FOR UPDATE (models/audit.py), so concurrent writers queue for
the next number instead of forking the chain. This module is plain functions over an event's
fields; `audit_verify.py` walks the stored chain.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC
from functools import lru_cache

from dermis.web.clinic import seals

GENESIS = "0" * 64
PURPOSE = "audit-chain"


@lru_cache(maxsize=1024)  # a page may audit a hundred events from one address
def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return str(value)


def canonical_event(event) -> dict:
    """What an event's hash covers: every field but its database id and the hash itself, and the
    patients it lists where it is about several (`listed_ids`: the writer sets them, the verifier
    reads them back), in order of id. An event without them is hashed as before they existed."""
    content = {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "clinic": event.clinic_id,
        "user": event.user_id,
        "username": event.username,
        "patient": event.patient_id_ref,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "summary": event.summary,
        "path": event.path,
        "ip_address": _ip(event.ip_address),
    }
    listed = getattr(event, "listed_ids", None)
    if listed:
        content["patients"] = sorted(listed)
    return content


def link(previous_hash: str, event) -> str:
    """The event's chain hash: HMAC over the previous hash and the event's canonical content."""
    data = previous_hash.encode("ascii") + b"\n" + seals.canonical_json(canonical_event(event))
    return seals.seal(PURPOSE, data)
