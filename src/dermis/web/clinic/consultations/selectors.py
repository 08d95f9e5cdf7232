"""Reads for the consultation and plan pages and the API."""

from __future__ import annotations

from dermis.core.recognition import Recognition
from dermis.web.clinic.models import Consultation


def recognition(consultation: Consultation) -> dict:
    """What the screening read from the free text, for a page: each fact with the words it came
    from, the lines it did not recognise, and whether any fact still awaits a practitioner."""
    read = Recognition.from_dict(consultation.recognition or {})
    return {
        "facts": [{**f.to_dict(), "recognised_from": f.recognised_from} for f in read.facts],
        "unrecognised": [u.to_dict() for u in read.unrecognised],
        "pending": len(read.pending),
    }
