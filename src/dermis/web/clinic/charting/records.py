"""The signed record of a session: its canonical content, the keyed seal and hash taken when it
was finalised, the draft's version (what the signer saw), and the model-layer guard that keeps a
finalised session as it was signed.

The guard (signal handlers) means no code path, not only the services, can change a finalised
session or its areas: later corrections are addenda.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.db.models.signals import pre_delete, pre_save
from django.dispatch import receiver

from dermis.web.clinic import seals
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import SessionArea, TreatmentSession


class SessionLocked(ServiceError):
    """The session is finalised: it can no longer be changed, only added to (addenda)."""

    def __init__(self, message: str = "the session is finalised; add an addendum instead") -> None:
        super().__init__("status", message, status=409, code="session-locked")


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def canonical_record(session: TreatmentSession) -> dict:
    """The finalised content in a fixed shape: what content_sha256 is the hash of."""
    areas = sorted(session.areas.all(), key=lambda a: a.area)
    return {
        "session": session.pk,
        "patient": session.patient_id,
        "plan": session.plan_id,
        "practitioner": session.practitioner_id,
        "performed_at": _utc(session.performed_at),
        "duration_minutes": session.duration_minutes,
        "modality": session.modality,
        "device": session.device,
        "cartridge": session.cartridge,
        "lot_number": session.lot_number,
        "serum": session.serum,
        "numbing": session.numbing,
        "endpoint": session.endpoint,
        "immediate_reactions": session.immediate_reactions,
        "notes": session.notes,
        "finalised_at": _utc(session.finalised_at),
        "finalised_by": session.finalised_by_id,
        "areas": [
            {
                "area": a.area,
                # SQLite and PostgreSQL return different scales (0.5 / 0.50): fix it
                "depth_mm": (
                    str(Decimal(a.depth_mm).quantize(Decimal("0.01")))
                    if a.depth_mm is not None
                    else None
                ),
                "tip": a.tip,
                "passes": a.passes,
            }
            for a in areas
        ],
    }


SEAL_PURPOSE = "session-record"


def content_sha256(session: TreatmentSession) -> str:
    """The unkeyed hash of the record (a fingerprint; the keyed seal is the evidence)."""
    return seals.unkeyed(canonical_record(session))


def content_seal(session: TreatmentSession) -> str:
    return seals.seal(SEAL_PURPOSE, canonical_record(session))


def integrity(session: TreatmentSession) -> seals.Integrity:
    """Whether a finalised record still matches its seal. A record finalised before keys has
    only its unkeyed hash (algorithm "sha256"): weaker, as anyone can recompute it."""
    if not session.is_final:
        return seals.Integrity(None, "")
    if session.seal_algorithm == seals.ALGORITHM:
        return seals.Integrity(seals.same(content_seal(session), session.seal), seals.ALGORITHM)
    return seals.Integrity(
        seals.same(content_sha256(session), session.content_sha256), seals.LEGACY
    )


def record_intact(session: TreatmentSession) -> bool | None:
    """Whether a finalised record still matches what was signed (None for a draft)."""
    return integrity(session).intact


def draft_version(session: TreatmentSession) -> str:
    """The version of a draft as a form or an API client shows it: changes whenever anything
    that finalising would sign changes (fields, areas, pre-care). Sent back when finalising so
    nobody signs content changed after they read it."""
    content = {**canonical_record(session), "precare_confirmed": session.precare_confirmed}
    return seals.unkeyed(content)[:20]


# --- Model-layer guard ----------------------------------------------------------------------


@receiver(pre_save, sender=TreatmentSession, dispatch_uid="dermis-lock-final-session")
def _refuse_changing_a_final_session(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    final = TreatmentSession.Status.FINAL
    if TreatmentSession.objects.filter(pk=instance.pk, status=final).exists():
        raise SessionLocked("a finalised session cannot be changed")


@receiver(pre_save, sender=SessionArea, dispatch_uid="dermis-lock-final-session-areas")
@receiver(pre_delete, sender=SessionArea, dispatch_uid="dermis-lock-final-session-areas-del")
def _refuse_changing_a_final_sessions_areas(sender, instance, raw=False, **kwargs):
    if raw:
        return
    final = TreatmentSession.Status.FINAL
    if TreatmentSession.objects.filter(pk=instance.session_id, status=final).exists():
        raise SessionLocked("a finalised session's areas cannot be changed")
