"""Writing a charted session: create and update a draft, finalise (sign and lock), add addenda;
record the chair-side "anything changed?" check; store a clinical photo.

Every service takes an actor, checks the role (clinical staff) and the clinic, asks the safety
gate (CHART for a draft, FINALISE for signing: on the session's day, for its modality and charted
areas, the session itself left out of the interval), writes and audits in one transaction, and
raises one `ServiceError`. Each write re-reads the session under a row lock, so a finalised record
cannot be changed by a stale form, a second tab or a direct request; the model layer guards it
too (`records.py`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dermis.core import gate
from dermis.core.charting_checks import Issue, errors
from dermis.core.errors import InputError
from dermis.web.clinic import clock, recall_sync, safety, seals
from dermis.web.clinic.actors import CLINICAL, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.charting import photos as photo_store
from dermis.web.clinic.charting.records import (
    SessionLocked,
    canonical_record,
    content_seal,
    content_sha256,
    draft_version,
    integrity,
    record_intact,
)
from dermis.web.clinic.charting.selectors import (
    Chart,
    check_chart,
    issue_field,
    planned_chart,
    stored_chart,
)
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import (
    Appointment,
    Patient,
    Photo,
    ScreeningRecheck,
    SessionAddendum,
    SessionArea,
    TreatmentPlan,
    TreatmentSession,
)

__all__ = [
    "ADDENDUM_MAX_CHARS",
    "Chart",
    "ChartError",
    "SessionLocked",
    "add_addendum",
    "canonical_record",
    "check_chart",
    "content_sha256",
    "create_session",
    "draft_version",
    "finalise_session",
    "integrity",
    "issue_field",
    "planned_chart",
    "record_intact",
    "record_recheck",
    "stored_chart",
    "update_session",
    "upload_photo",
]

ADDENDUM_MAX_CHARS = 5000
NOTE_MAX_CHARS = 2000
GATE_FIELDS = {"start": "performed_at"}  # the gate's name for the day is the chart's time


class ChartError(ServiceError):
    """The chart breaks a knowledge-base limit; `issues` holds every error (and warning)."""

    def __init__(self, issues: list[Issue]) -> None:
        first = errors(issues)[0]
        super().__init__(issue_field(first), first.message, code="chart-limit")
        self.issues = issues


def _checked(chart: Chart, patient: Patient, plan: TreatmentPlan | None) -> list[Issue]:
    issues = check_chart(chart, patient, plan)
    if errors(issues):
        raise ChartError(issues)
    return issues


def _day(chart: Chart) -> date:
    return timezone.localtime(chart.performed_at).date()


def _validate(chart: Chart) -> None:
    if _day(chart) > clock.today():
        raise ServiceError(
            "performed_at", "cannot be in the future: chart a session once it is done"
        )


def _ask_gate(
    actor: Actor,
    patient: Patient,
    kind: gate.ActKind,
    chart: Chart,
    *,
    session: TreatmentSession | None = None,
    appointment: Appointment | None = None,
    precare_done: bool = False,
    override_reason: str = "",
) -> gate.Verdict:
    """The gate's answer for this chart; its "start" is the chart's `performed_at`."""
    act = gate.Act(kind, chart.modality, _day(chart), tuple(a.area for a in chart.areas))
    notice = timezone.localtime(appointment.created_at).date() if appointment else None
    try:
        return safety.check(
            actor,
            patient,
            act,
            notice_from=notice,
            precare_done=precare_done or bool(appointment and appointment.precare_confirmed),
            override_reason=override_reason,
            exclude_session=session,
        )
    except ServiceError as err:
        if err.field in GATE_FIELDS:
            err.field = GATE_FIELDS[err.field]
        raise


def _apply(session: TreatmentSession, chart: Chart) -> None:
    for name in (
        "modality",
        "device",
        "performed_at",
        "duration_minutes",
        "cartridge",
        "lot_number",
        "serum",
        "numbing",
        "endpoint",
        "immediate_reactions",
        "notes",
    ):
        setattr(session, name, getattr(chart, name))


def _write_areas(session: TreatmentSession, chart: Chart) -> None:
    session.areas.all().delete()
    SessionArea.objects.bulk_create(
        SessionArea(
            session=session,
            area=a.area,
            depth_mm=Decimal(str(a.depth_mm)) if a.depth_mm is not None else None,
            tip=a.tip or "",
            passes=a.passes,
        )
        for a in chart.areas
    )


def _precare_by(actor: Actor, precare_done: bool) -> None:
    if precare_done and not actor.is_clinical:
        raise ServiceError("precare_done", "only a practitioner may record pre-care", status=403)


def create_session(
    actor: Actor,
    patient: Patient,
    chart: Chart,
    *,
    appointment: Appointment | None = None,
    plan: TreatmentPlan | None = None,
    precare_done: bool = False,
    override_reason: str = "",
) -> tuple[TreatmentSession, list[Issue]]:
    """A new draft session with its areas; returns it with the checks' warnings."""
    actor.require(CLINICAL, "charting sessions")
    actor.own(patient, "patient")
    if plan is not None and plan.patient_id != patient.pk:
        raise ServiceError("plan", "is not one of this patient's plans")
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ServiceError("appointment", "is not one of this patient's appointments")
    _validate(chart)
    issues = _checked(chart, patient, plan)
    with transaction.atomic():
        if (
            appointment is not None
            and TreatmentSession.objects.filter(appointment=appointment).exists()
        ):
            raise ServiceError("appointment", "already has a charted session", status=409)
        _ask_gate(
            actor,
            patient,
            gate.ActKind.CHART,
            chart,
            appointment=appointment,
            precare_done=precare_done,
            override_reason=override_reason,
        )
        session = TreatmentSession(
            patient=patient,
            plan=plan,
            appointment=appointment,
            practitioner=actor.staff or _practitioner_of(appointment),
            precare_confirmed=precare_done,
        )
        _apply(session, chart)
        session.save()
        _write_areas(session, chart)
        record(actor, Action.CREATE, session, summary="draft session")
    return session, issues


def _practitioner_of(appointment: Appointment | None):
    if appointment is None:
        raise ServiceError("practitioner", "a session is charted by a member of staff")
    return appointment.practitioner


def _locked_draft(actor: Actor, session: TreatmentSession) -> TreatmentSession:
    actor.require(CLINICAL, "charting sessions")
    actor.own(session, "session")
    locked = (
        # Lock the session row only: PostgreSQL refuses FOR UPDATE across the optional appointment.
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("patient", "appointment")
        .get(pk=session.pk)
    )
    if locked.is_final:
        raise SessionLocked()
    return locked


def update_session(
    actor: Actor,
    session: TreatmentSession,
    chart: Chart,
    *,
    precare_done: bool = False,
    override_reason: str = "",
) -> tuple[TreatmentSession, list[Issue]]:
    """Replace a draft's content. Raises SessionLocked (409) once it is finalised."""
    _validate(chart)
    with transaction.atomic():
        session = _locked_draft(actor, session)
        issues = _checked(chart, session.patient, session.plan)
        precare = precare_done or session.precare_confirmed
        _ask_gate(
            actor,
            session.patient,
            gate.ActKind.CHART,
            chart,
            session=session,
            appointment=session.appointment,
            precare_done=precare,
            override_reason=override_reason,
        )
        _apply(session, chart)
        session.precare_confirmed = precare
        session.save()
        _write_areas(session, chart)
        record(actor, Action.UPDATE, session, summary="draft session changed")
    return session, issues


def finalise_session(
    actor: Actor,
    session: TreatmentSession,
    *,
    precare_done: bool = False,
    override_reason: str = "",
    recheck: dict | None = None,
    version: str | None = None,
) -> TreatmentSession:
    """Sign and lock: status final, who and when, and the keyed seal of the record as signed.

    `version` is the draft's version the signer saw (`draft_version`): when the draft has changed
    since, nothing is signed (409, field `version`). The web and API doors always send it.
    `recheck` ({"changed": bool, "answers": {...}, "note": ""}) records the chair-side check first,
    when the gate asks for one (a screening older than the clinic's limit)."""
    with transaction.atomic():
        session = _locked_draft(actor, session)
        if version is not None and version != draft_version(session):
            raise ServiceError(
                "version",
                "the session was changed after you opened it: read it again, then finalise",
                status=409,
                code="version-changed",
            )
        if recheck is not None:
            record_recheck(
                actor,
                session.patient,
                changed=bool(recheck.get("changed")),
                answers=recheck.get("answers") or {},
                note=recheck.get("note") or "",
            )
        chart = stored_chart(session)
        if not chart.areas:
            raise ServiceError("areas", "chart at least one treated area before finalising")
        if not chart.cartridge.strip():
            raise ServiceError("cartridge", "is required to finalise (the cartridge or tip used)")
        if not chart.lot_number.strip():
            raise ServiceError("lot_number", "is required to finalise (the cartridge or tip lot)")
        _checked(chart, session.patient, session.plan)
        _ask_gate(
            actor,
            session.patient,
            gate.ActKind.FINALISE,
            chart,
            session=session,
            appointment=session.appointment,
            precare_done=precare_done or session.precare_confirmed,
            override_reason=override_reason,
        )
        session.status = TreatmentSession.Status.FINAL
        session.finalised_at = clock.now()
        session.finalised_by = actor.user
        session.content_sha256 = content_sha256(session)
        session.seal = content_seal(session)
        session.seal_algorithm = seals.ALGORITHM
        session.save()
        record(actor, Action.SIGN, session, summary="session finalised")
        recall_sync.changed(session.patient)
    return session


def add_addendum(actor: Actor, session: TreatmentSession, text: str) -> SessionAddendum:
    """A dated, signed note added to a finalised session; the record itself stays as signed."""
    actor.require(CLINICAL, "adding to a session's record")
    actor.own(session, "session")
    text = (text or "").strip()
    if not text:
        raise ServiceError("text", "is required: write what you are adding to the record")
    if len(text) > ADDENDUM_MAX_CHARS:
        raise ServiceError(
            "text", f"is too long ({len(text)} characters; at most {ADDENDUM_MAX_CHARS})"
        )
    with transaction.atomic():
        session = TreatmentSession.objects.select_for_update().get(pk=session.pk)
        if not session.is_final:
            raise ServiceError("text", "a draft is edited directly; addenda follow finalising")
        addendum = SessionAddendum.objects.create(session=session, author=actor.user, text=text)
        record(actor, Action.CREATE, addendum, patient=session.patient, summary="session addendum")
    return addendum


def record_recheck(
    actor: Actor, patient: Patient, changed: bool, answers: dict, note: str = ""
) -> ScreeningRecheck:
    """The chair-side "anything changed since the screening?" check, today. A change means a new
    consultation before treatment (the gate refuses until there is one)."""
    actor.require(CLINICAL, "recording the check at the chair")
    actor.own(patient, "patient")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise ServiceError("note", f"is too long (at most {NOTE_MAX_CHARS} characters)")
    if changed and not note and not any(answers.values()):
        raise ServiceError("note", "say what changed (medicines, pregnancy, cold sore, sunburn...)")
    with transaction.atomic():
        row = ScreeningRecheck.objects.create(
            patient=patient,
            on=clock.today(),
            changed=changed,
            answers={str(k): bool(v) for k, v in answers.items()},
            note=note,
            created_by=actor.user,
        )
        record(actor, Action.CREATE, row, summary="screening recheck")
    return row


def upload_photo(
    actor: Actor,
    patient: Patient,
    file,
    *,
    area: str,
    stage: str,
    taken_on: date,
    session: TreatmentSession | None = None,
    consent_for_record: bool = False,
) -> Photo:
    """Validate, strip and store an uploaded photo, then its row: the file is removed again if
    the row cannot be written."""
    actor.require(CLINICAL, "adding clinical photos")
    actor.own(patient, "patient")
    if area not in knowledge().areas:
        raise ServiceError("area", f"unknown area (known: {', '.join(knowledge().areas)})")
    if stage not in Photo.Stage.values:
        raise ServiceError("stage", f"must be one of {', '.join(Photo.Stage.values)}")
    if taken_on > clock.today():
        raise ServiceError("taken_on", "cannot be in the future")
    if session is not None and session.patient_id != patient.pk:
        raise ServiceError("session", "is not one of this patient's sessions")
    if not consent_for_record:
        raise ServiceError(
            "consent_for_record", "is required: only keep photos the patient agreed to"
        )
    try:
        stored = photo_store.store_upload(file, field="file")
    except InputError as err:
        raise ServiceError.of(err) from None
    try:
        with transaction.atomic():
            photo = Photo.objects.create(
                patient=patient,
                session=session,
                area=area,
                stage=stage,
                taken_on=taken_on,
                storage_name=stored.storage_name,
                content_type=stored.content_type,
                width=stored.width,
                height=stored.height,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                consent_for_record=True,
                uploaded_by=actor.user,
            )
            record(actor, Action.CREATE, photo, summary="photo uploaded")
    except Exception:
        photo_store.discard(stored.storage_name)
        raise
    return photo
