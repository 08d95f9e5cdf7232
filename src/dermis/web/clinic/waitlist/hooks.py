"""The scheduling services' one call into the waitlist: a slot was freed (after the commit)."""

from __future__ import annotations

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def slot_freed(appointment) -> None:
    """Offer the cancelled appointment's slot to the waitlist once the cancellation commits."""
    pk = appointment.pk

    def offer() -> None:
        from dermis.web.clinic.waitlist.services import offer_freed_slot

        offer_freed_slot(pk)

    # robust: the cancellation stands even if offering fails; the error is logged with ids only.
    transaction.on_commit(offer, robust=True)
