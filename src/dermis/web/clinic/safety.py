"""The safety gate at every door: the stored record as the core gate's context, and its answer as
a refusal every door shows the same way.

`check()` is called by every service that puts a needle or an abrasive tip on a patient (booking
a treatment, rescheduling it, charting and finalising a session, issuing aftercare or pre-care).
The decision is the core's (`dermis.core.gate`); this module only gathers what it needs from the
database and records the practitioner's overrides. `recheck_bookings()` runs after a new plan
version or a new screening and flags (never silently keeps) booked treatments that became unsafe.
"""

from __future__ import annotations

import dataclasses
from datetime import date

from django.utils import timezone

from dermis.core import gate
from dermis.core.planning import Plan
from dermis.core.progress import SessionDone
from dermis.core.screening import Screening
from dermis.web.clinic import clock
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.core_inputs import (
    ACTIVE_PLAN,
    LATEST_CONSULTATION,
    active_plan,
    core_intake,
    core_patient,
    knowledge,
    latest_consultation,
)
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import (
    OPEN_STATUSES,
    Appointment,
    Patient,
    SafetyOverride,
    ScreeningRecheck,
    TreatmentSession,
)
from dermis.web.clinic.prepared import PreparedRows
from dermis.web.clinic.together import Read

TREATMENT_KINDS = (Appointment.Kind.TREATMENT, Appointment.Kind.MAINTENANCE)
MIN_OVERRIDE_REASON = 10


# What the gate reads of a patient at every booking, charting and series page: composed once per
# process (prepared.py).
OVERRIDES = PreparedRows(
    SafetyOverride,
    lambda patient: SafetyOverride.objects.filter(patient_id=patient).order_by("-created_at"),
    patient=int,
)
RECHECK = PreparedRows(
    ScreeningRecheck,
    lambda patient: ScreeningRecheck.objects.filter(patient_id=patient).order_by(
        "-on", "-created_at"
    ),
    patient=int,
)
SESSIONS_DONE = PreparedRows(
    TreatmentSession,
    lambda patient: TreatmentSession.objects.filter(patient_id=patient).only(
        "patient", "modality", "performed_at", "status"
    ),
    patient=int,
)


def _sessions(patient: Patient, exclude: TreatmentSession | None) -> tuple[SessionDone, ...]:
    rows = SESSIONS_DONE.rows(None, patient=patient.pk)
    if exclude is not None and exclude.pk:
        rows = [s for s in rows if s.pk != exclude.pk]
    return tuple(
        SessionDone(
            modality=s.modality,
            on=timezone.localtime(s.performed_at).date(),
            final=s.status == TreatmentSession.Status.FINAL,
        )
        for s in rows
    )


def context_reads(patient: Patient) -> list[Read | None]:
    """What `context` reads of the patient (outside `read_once`), for a caller to send together
    (`prepared.read_together`)."""
    pk = patient.pk
    return [
        LATEST_CONSULTATION.ahead(1, patient=pk),
        ACTIVE_PLAN.ahead(1, patient=pk),
        OVERRIDES.ahead(None, patient=pk),
        RECHECK.ahead(1, patient=pk),
        SESSIONS_DONE.ahead(None, patient=pk),
    ]


def context(
    patient: Patient,
    *,
    today: date | None = None,
    notice_from: date | None = None,
    precare_done: bool = False,
    overrides: tuple[gate.Override, ...] = (),
    exclude_session: TreatmentSession | None = None,
) -> gate.Context:
    """What the gate needs to know about `patient`, read from the record."""
    today = today or clock.today()
    consultation = latest_consultation(patient)
    screening = Screening.from_dict(consultation.screening) if consultation else None
    plan_row = active_plan(patient)
    plan = Plan.from_dict(plan_row.content) if plan_row else None
    since = consultation.created_at if consultation else None
    kept = tuple(
        gate.Override(o.rule, o.reason, str(o.created_by_id or ""))
        for o in OVERRIDES.rows(None, patient=patient.pk)
        if since is None or o.created_at >= since
    )
    recheck_rows = RECHECK.rows(1, patient=patient.pk)
    recheck_row = recheck_rows[0] if recheck_rows else None
    recheck = (
        gate.Recheck(recheck_row.on, recheck_row.changed, recheck_row.note)
        if recheck_row and (since is None or recheck_row.created_at >= since)
        else None
    )
    try:
        who = core_patient(patient, today) if patient.fitzpatrick else None
    except Exception:  # an age outside the core's range: pre-care rules by phototype only
        who = None
    return gate.Context(
        today=today,
        screening=screening,
        plan=plan,
        sessions=_sessions(patient, exclude_session),
        notice_from=notice_from,
        precare_done=precare_done,
        recheck=recheck,
        overrides=kept + overrides,
        max_screening_age_days=patient.clinic.screening_max_age_days,
        intake=core_intake(consultation) if consultation else None,
        patient=who,
    )


def refusal(verdict: gate.Verdict, field_prefix: str = "") -> ServiceError:
    """The gate's refusal as the one service error: the field, the reason, the date, sources."""
    first = verdict.refusals[0]
    return ServiceError(
        f"{field_prefix}{first.field}",
        verdict.message(),
        code=f"unsafe:{first.code}",
        possible_from=verdict.possible_from,
        citations=tuple(dict.fromkeys(c for r in verdict.refusals for c in r.citations)),
    )


def check(
    actor: Actor,
    patient: Patient,
    act: gate.Act,
    *,
    notice_from: date | None = None,
    precare_done: bool = False,
    override_reason: str = "",
    exclude_session: TreatmentSession | None = None,
    field_prefix: str = "",
) -> gate.Verdict:
    """Ask the gate; raise ServiceError when it refuses. Call inside the write's transaction:
    an override it accepts is stored and audited there."""
    reason = (override_reason or "").strip()
    ctx = context(
        patient,
        notice_from=notice_from,
        precare_done=precare_done,
        exclude_session=exclude_session,
    )
    verdict = gate.check(act, ctx, knowledge())
    if reason and any(r.overridable for r in verdict.refusals):
        if not actor.is_clinical:
            raise ServiceError(
                "override_reason", "only a practitioner may override a finding", status=403
            )
        if len(reason) < MIN_OVERRIDE_REASON:
            raise ServiceError(
                "override_reason", f"write the reason in at least {MIN_OVERRIDE_REASON} characters"
            )
        extra = tuple(
            gate.Override(r.rule, reason, actor.username) for r in verdict.refusals if r.overridable
        )
        verdict = gate.check(act, gate_context_with(ctx, extra), knowledge())
        if verdict.allowed:
            for refused, _ in verdict.overridden:
                if refused.rule not in {o.rule for o in ctx.overrides}:
                    row = SafetyOverride.objects.create(
                        patient=patient,
                        rule=refused.rule,
                        modality=act.modality,
                        reason=reason,
                        until=refused.possible_from,
                        created_by=actor.user,
                    )
                    record(actor, Action.UPDATE, row, patient=patient, summary="safety override")
    if not verdict.allowed:
        raise refusal(verdict, field_prefix)
    return verdict


def gate_context_with(ctx: gate.Context, overrides: tuple[gate.Override, ...]) -> gate.Context:
    from dataclasses import replace

    return replace(ctx, overrides=ctx.overrides + overrides)


def modalities_of(patient: Patient, modality: str = "") -> tuple[str, ...]:
    """The modalities a treatment booking is for: the one named, else the active plan's."""
    if modality:
        return (modality,)
    plan_row = active_plan(patient)
    if plan_row is None:
        return ()
    return tuple(c.modality for c in Plan.from_dict(plan_row.content).courses)


def recheck_bookings(actor: Actor, patient: Patient) -> list[Appointment]:
    """After a new plan version or screening: flag every booked treatment the gate now refuses
    (and clear the flag of those it allows). Returns the flagged ones. Inside the caller's
    transaction."""
    flagged = []
    ahead = patient.appointments.filter(
        status__in=OPEN_STATUSES, kind__in=TREATMENT_KINDS, start__gte=clock.now()
    )
    plan_row = active_plan(patient)
    for appointment in ahead:
        modalities = modalities_of(patient, appointment.modality)
        problems = []
        for modality in modalities:
            act = gate.Act(
                gate.ActKind.BOOK, modality, timezone.localtime(appointment.start).date()
            )
            ctx = context(
                patient,
                notice_from=timezone.localtime(appointment.created_at).date(),
                precare_done=appointment.precare_confirmed,
            )
            verdict = gate.check(act, ctx, knowledge())
            if not verdict.allowed:
                problems.append(verdict.message())
        flag = "; ".join(problems)[:300]
        provisional = plan_row is None
        if flag != appointment.safety_flag or provisional != appointment.provisional:
            Appointment.objects.filter(pk=appointment.pk).update(
                safety_flag=flag, provisional=provisional
            )
            if flag:
                record(actor, Action.UPDATE, appointment, summary="booking flagged by the gate")
        if flag:
            flagged.append(appointment)
    return flagged


def first_safe_day(
    patient: Patient,
    modality: str,
    areas: tuple[str, ...],
    start: date,
    *,
    precare_done: bool = False,
    tries: int = 6,
    ctx: gate.Context | None = None,
) -> date | None:
    """The first day from `start` the gate allows booking `modality` on `areas` (None: waiting
    does not make it safe). Each refusal names the day it ends; a few steps reach the last.
    `ctx`: the patient's context already read (with `precare_done` as wanted)."""
    ctx = ctx or context(patient, precare_done=precare_done)
    day = start
    for _ in range(tries):
        verdict = gate.check(gate.Act(gate.ActKind.BOOK, modality, day, areas), ctx, knowledge())
        if verdict.allowed:
            return day
        later = verdict.possible_from
        if later is None or later <= day:
            return None
        day = later
    return None


def why_not(
    patient: Patient,
    modality: str,
    areas: tuple[str, ...],
    day: date,
    ctx: gate.Context | None = None,
) -> str:
    """The gate's one-line reason for refusing a booking on `day` ('' when it allows it), pre-care
    taken as not done. `ctx`: the patient's context already read (its pre-care is set aside)."""
    act = gate.Act(gate.ActKind.BOOK, modality, day, areas)
    ctx = dataclasses.replace(ctx, precare_done=False) if ctx else context(patient)
    verdict = gate.check(act, ctx, knowledge())
    return "" if verdict.allowed else verdict.message()
