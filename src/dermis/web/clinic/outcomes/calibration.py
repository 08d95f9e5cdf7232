"""Refitting, reverting and choosing the clinic's outcome-model parameter set: the only writer of
`OutcomeParameterSet` rows (an admin's decision, audited in the same transaction).

A refit always starts from the packaged set (the clinic's grades are all its evidence: refitting a
refit would count them twice) and is refused, naming why, until the clinic has the minimum the
core asks for (`CalibrationReport.refit_blocker`: 50 usable grades from 20 patients).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from dermis.core.errors import InputError
from dermis.core.outcome.clinic_refit import Refit, refit_parameters
from dermis.web.clinic import recall_sync
from dermis.web.clinic.actors import ADMIN_ONLY, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.errors import ServiceError, conflict, not_found
from dermis.web.clinic.models import OutcomeParameterSet
from dermis.web.clinic.outcomes import evidence
from dermis.web.clinic.outcomes.parameter_sets import packaged


def _provenance(refit: Refit) -> str:
    moved = [s for s in refit.shifts if s.refitted]
    parts = ", ".join(f"{s.group.replace('_', ' ')} x{s.factor:.2f}" for s in moved) or "none"
    p = refit.parameters.provenance or {}
    text = (
        f"Refitted from {refit.base_version} to {p.get('follow_ups', 0)} follow-up grades of "
        f"{p.get('patients', 0)} patients on {p.get('date', '')}; response moved: {parts}."
    )
    return text[:300]


def _activate(actor: Actor, row: OutcomeParameterSet | None) -> None:
    """Make `row` the clinic's only active set (None: none, so the packaged set)."""
    others = OutcomeParameterSet.objects.filter(clinic=actor.clinic, active=True)
    if row is not None:
        others = others.exclude(pk=row.pk)
    others.update(active=False)
    if row is not None and not row.active:
        row.active = True
        row.save(update_fields=["active"])
    recall_sync.clinic_changed(actor.clinic)


def _store(actor: Actor, result: Refit, now: datetime) -> OutcomeParameterSet:
    version = result.parameters.version
    with transaction.atomic():
        row = OutcomeParameterSet.objects.filter(clinic=actor.clinic, version=version).first()
        if row is None:  # the same grades refitted again the same day give the same set
            p = result.parameters.provenance or {}
            row = OutcomeParameterSet.objects.create(
                clinic=actor.clinic,
                version=version,
                base_version=result.base_version,
                data=result.parameters.to_dict(),
                provenance=_provenance(result),
                follow_ups=int(p.get("follow_ups", 0)),
                patients=int(p.get("patients", 0)),
                created_at=now,
                created_by=actor.user,
            )
        _activate(actor, row)
        record(actor, Action.CREATE, row, summary=f"outcome parameter set refit {version}")
    return row


def refit(actor: Actor, *, now: datetime | None = None) -> OutcomeParameterSet:
    """Refit the response to the clinic's follow-ups and make the new set the active one."""
    actor.require(ADMIN_ONLY, "refitting the outcome model")
    now = now or timezone.now()
    base = packaged()
    records = evidence.clinic_records(actor.clinic)
    if not records:
        raise ServiceError("refit", "not allowed yet: the clinic has no usable follow-up grades")
    report = evidence.report_for(records, base)
    if not report.refit_allowed:
        raise ServiceError("refit", f"not allowed yet: {report.refit_blocker}")
    try:
        result = refit_parameters(
            records, base, timezone.localdate(now), n_draws=evidence.report_draws()
        )
    except InputError as err:
        raise ServiceError("refit", f"not allowed yet: {err.message}") from None
    try:
        return _store(actor, result, now)
    except IntegrityError:  # another admin stored or activated a set at the same moment
        raise conflict("refit", "the parameter sets changed meanwhile: try again") from None


def revert(actor: Actor) -> None:
    """Forecast with the packaged set again (stored sets are kept and can be activated)."""
    actor.require(ADMIN_ONLY, "choosing the outcome model's parameters")
    with transaction.atomic():
        current = OutcomeParameterSet.objects.filter(clinic=actor.clinic, active=True).first()
        _activate(actor, None)
        record(
            actor,
            Action.UPDATE,
            current,
            summary=f"outcome parameters reverted to {packaged().version}",
        )


def activate(actor: Actor, set_id: int) -> OutcomeParameterSet:
    """Forecast with one of the clinic's stored sets again."""
    actor.require(ADMIN_ONLY, "choosing the outcome model's parameters")
    row = OutcomeParameterSet.objects.filter(pk=set_id, clinic=actor.clinic).first()
    if row is None:
        raise not_found("set_id")
    with transaction.atomic():
        _activate(actor, row)
        record(actor, Action.UPDATE, row, summary=f"outcome parameters set to {row.version}")
    return row
