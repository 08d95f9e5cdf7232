"""Tamper evidence: keyed seals (HMAC-SHA256) over a record's canonical content.

An unkeyed hash proves nothing against someone who can write to the database: they change the
record and recompute the hash. A seal needs `settings.DERMIS_RECORD_KEY`, which lives in the
server's environment, not in the database. Each kind of record has its own purpose string, so a
seal of one kind can never stand for another. The key is never shown, logged or returned.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

ALGORITHM = "hmac-sha256"
LEGACY = "sha256"  # rows sealed before keys: unkeyed, recomputable by anyone


def canonical_json(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _key(purpose: str) -> bytes:
    # One key per purpose, derived from the record key (a different HMAC key for each kind).
    return _derived(settings.DERMIS_RECORD_KEY, purpose)


@lru_cache(maxsize=64)  # a list page seals a hundred audit events with the same key
def _derived(root: str, purpose: str) -> bytes:
    return hmac.digest(root.encode("utf-8"), f"dermis.seal.{purpose}".encode(), hashlib.sha256)


def seal(purpose: str, content: dict | bytes) -> str:
    """The hex HMAC-SHA256 of `content` (a dict is put in canonical JSON first)."""
    data = content if isinstance(content, bytes) else canonical_json(content)
    return hmac.digest(_key(purpose), data, hashlib.sha256).hex()


def unkeyed(content: dict | bytes) -> str:
    data = content if isinstance(content, bytes) else canonical_json(content)
    return hashlib.sha256(data).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a, b)


@dataclass(frozen=True)
class Integrity:
    """Whether a record still matches what was sealed, and with which algorithm."""

    intact: bool | None  # None: nothing sealed yet (a draft)
    algorithm: str  # "hmac-sha256", "sha256" (unkeyed, from before keys) or "" (nothing sealed)

    @property
    def keyed(self) -> bool:
        return self.algorithm == ALGORITHM
