"""A signed consent's seal: a keyed hash (clinic/seals.py) over the whole record as signed.

`text_sha256` identifies the consent text (a public text: anyone can hash it). The seal covers
the text, its version, the drawn signature, the signer's name, the time, the patient, the
consultation and the witness, so none of them can be changed unnoticed without the record key.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from dermis.web.clinic import seals
from dermis.web.clinic.models import ConsentRecord

SEAL_PURPOSE = "consent-record"


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def canonical_consent(consent: ConsentRecord) -> dict:
    return {
        "consent": consent.pk,
        "patient": consent.patient_id,
        "consultation": consent.consultation_id,
        "text_version": consent.text_version,
        "text": consent.text,
        "text_sha256": consent.text_sha256,
        "signature_sha256": hashlib.sha256(bytes(consent.signature_png or b"")).hexdigest(),
        "signer_name": consent.signer_name,
        "signed_at": _utc(consent.signed_at),
        "witnessed_by": consent.witnessed_by_id,
        "ip_address": consent.ip_address,
    }


def consent_seal(consent: ConsentRecord) -> str:
    return seals.seal(SEAL_PURPOSE, canonical_consent(consent))


def seal_consent(consent: ConsentRecord) -> None:
    """Seal a consent just written (inside its transaction: the seal needs the row's id)."""
    consent.seal = consent_seal(consent)
    consent.seal_algorithm = seals.ALGORITHM
    ConsentRecord.objects.filter(pk=consent.pk).update(
        seal=consent.seal, seal_algorithm=consent.seal_algorithm
    )


def consent_integrity(consent: ConsentRecord) -> seals.Integrity:
    """Intact when the record matches its seal. A consent signed before seals has only the
    unkeyed hash of its text (algorithm "sha256"), which covers the text alone."""
    if consent.seal_algorithm == seals.ALGORITHM:
        return seals.Integrity(seals.same(consent_seal(consent), consent.seal), seals.ALGORITHM)
    text_hash = seals.unkeyed(consent.text.encode("utf-8"))
    return seals.Integrity(seals.same(text_hash, consent.text_sha256), seals.LEGACY)
