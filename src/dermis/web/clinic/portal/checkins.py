"""Check-ins after a session: how the skin looks and feels, the warning signs as yes/no
questions, an optional photo (the charting's photo validation) and the patient's own global
impression of change. A warning sign raises an alert for the clinic (dashboard and email), which
a practitioner acknowledges; every step is audited."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dermis.core.errors import InputError
from dermis.web.clinic import clock
from dermis.web.clinic.actors import CLINICAL, PATIENT, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.charting import photos
from dermis.web.clinic.errors import ServiceError, conflict
from dermis.web.clinic.models import CheckIn, Clinic, TreatmentSession
from dermis.web.clinic.portal import selectors
from dermis.web.clinic.prepared import PreparedRows

# The days the portal asks for a check-in are the clinic's (`prompt_days`; 1 and 3 by default).
FIRST_DAY = 1
LAST_DAY = 14  # check-ins are taken up to two weeks after a session
MAX_PROMPT_DAYS = 5
LOOKS = {
    "as_expected": "Pink or red, like mild sunburn",
    "better": "Almost back to normal",
    "worse": "Redder or more swollen than yesterday",
}
FEELS = {
    "fine": "Fine",
    "tight": "Tight, dry or a little itchy",
    "sore": "Sore",
    "very_sore": "Very sore, and getting worse",
}
# code -> the question (yes means the patient must call)
WARNING_SIGNS = {
    "infection": (
        "Is there pain, heat or swelling that is getting worse, pus, yellow crusts, or a fever?"
    ),
    "blisters": "Are there blisters, weeping or raw patches, or a rash?",
    "cold_sore": "Can you feel the tingling, or see the blisters, of a cold sore?",
    "lasting": "Has swelling or redness lasted more than 7 days, or are dark patches appearing?",
    "breathing": "Is there swelling of your lips, eyes or throat, or trouble breathing?",
}
# Patient Global Impression of Change: the patient's own 7-point scale, kept apart from grades.
PGIC = {
    1: "Very much better",
    2: "Much better",
    3: "A little better",
    4: "No change",
    5: "A little worse",
    6: "Much worse",
    7: "Very much worse",
}


def day_of(session: TreatmentSession) -> int:
    return (clock.today() - timezone.localtime(session.performed_at).date()).days


def prompt_days(clinic: Clinic) -> tuple[int, ...]:
    """The days after a session on which `clinic` asks for a check-in (portal and messages)."""
    return selectors.checkin_days(clinic)


def is_prompt_day(session: TreatmentSession) -> bool:
    return check_ins_open(session) and day_of(session) in prompt_days(session.patient.clinic)


def check_ins_open(session: TreatmentSession) -> bool:
    return session.status == TreatmentSession.Status.FINAL and 1 <= day_of(session) <= LAST_DAY


def _alert_email(check_in: CheckIn) -> None:
    """Tell the practitioner and the clinic; no patient data in the email, only a link."""
    session = check_in.session
    to = [a for a in (session.practitioner.user.email, session.patient.clinic.email) if a]
    if not to:
        return
    EmailMessage(
        "A patient reported a warning sign after treatment",
        "A patient answered yes to a warning sign in their check-in after a treatment.\n"
        "Please call them now. Open the dashboard to see who and to acknowledge the alert:\n"
        f"{reverse('dashboard')}\n",
        settings.DEFAULT_FROM_EMAIL,
        to,
    ).send(fail_silently=True)


def record_check_in(
    actor: Actor,
    session: TreatmentSession,
    *,
    looks: str,
    feels: str,
    warnings: list[str],
    improvement: int | None = None,
    note: str = "",
    photo=None,
) -> CheckIn:
    """The signed-in patient's check-in on a session of theirs (days 1 to 14 after it)."""
    actor.require((PATIENT,), "checking in after a session")
    actor.own(session, "session")
    actor.require_self(session.patient)
    if not check_ins_open(session):
        raise ServiceError("session", f"check-ins are open from day 1 to day {LAST_DAY}")
    if looks not in LOOKS:
        raise ServiceError("looks", "choose one of the answers")
    if feels not in FEELS:
        raise ServiceError("feels", "choose one of the answers")
    unknown = [w for w in warnings if w not in WARNING_SIGNS]
    if unknown:
        raise ServiceError("warnings", "is not one of the warning signs")
    if improvement is not None and improvement not in PGIC:
        raise ServiceError("improvement", "choose one of the answers")
    stored = None
    if photo is not None:
        try:
            stored = photos.store_upload(photo, "photo")
        except InputError as err:
            raise ServiceError.of(err) from None
    try:
        with transaction.atomic():
            check_in = CheckIn.objects.create(
                patient=session.patient,
                session=session,
                day=day_of(session),
                looks=looks,
                feels=feels,
                warnings=sorted(set(warnings)),
                improvement=improvement,
                note=note.strip()[:2000],
                photo_name=stored.storage_name if stored else "",
                created_at=clock.now(),
            )
            summary = "check-in with a warning sign" if check_in.warnings else "check-in"
            record(actor, Action.CREATE, check_in, summary=summary)
            if check_in.warnings:
                transaction.on_commit(lambda: _alert_email(check_in))
    except Exception:
        if stored is not None:
            photos.discard(stored.storage_name)
        raise
    return check_in


def _open_alerts(clinic: int):
    return (
        CheckIn.objects.filter(patient__clinic_id=clinic, acknowledged_at__isnull=True)
        .exclude(warnings=[])
        .select_related("patient", "session__practitioner")
        .order_by("created_at", "pk")
    )


# Read on every clinical staff member's dashboard: composed once per process.
OPEN_ALERTS = PreparedRows(CheckIn, _open_alerts, clinic=int)


def open_alerts(clinic: Clinic) -> list[CheckIn]:
    """Check-ins with a warning sign that nobody has acknowledged yet, oldest first."""
    return OPEN_ALERTS.rows(None, clinic=clinic.pk)


def acknowledge(actor: Actor, check_in: CheckIn) -> CheckIn:
    """A practitioner has seen the alert (and called the patient)."""
    actor.require(CLINICAL, "acknowledging a patient's alert")
    actor.own(check_in, "check_in")
    with transaction.atomic():
        locked = CheckIn.objects.select_for_update().get(pk=check_in.pk)
        if locked.acknowledged_at is not None:
            raise conflict("check_in", "this alert was already acknowledged")
        if not locked.warnings:
            raise ServiceError("check_in", "this check-in raised no alert")
        locked.acknowledged_at = clock.now()
        locked.acknowledged_by = actor.user
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        record(actor, Action.UPDATE, locked, summary="check-in alert acknowledged")
    return locked


def recent_window() -> timedelta:
    return timedelta(days=LAST_DAY)
