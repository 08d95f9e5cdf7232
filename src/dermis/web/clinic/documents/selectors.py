"""Reading documents: a session's aftercare (and the pre-care it lists), asked of the safety gate.

`aftercare_for(actor, session)` is the one way to the aftercare page, its PDF and the record page's
"today" panel: it asks the gate (AFTERCARE, or PRECARE) for the session's day, modality and areas,
with the session itself left out of the interval (its own existence never withholds its aftercare),
and raises ServiceError when the gate refuses. The schedule is the core's (`dermis.core.aftercare`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone
from pydantic import ValidationError

from dermis.core import gate
from dermis.core.aftercare import Aftercare, aftercare
from dermis.core.errors import InputError
from dermis.core.patient import input_error
from dermis.web.clinic import clock, core_inputs, safety
from dermis.web.clinic.actors import CLINICAL, PATIENT, Actor
from dermis.web.clinic.core_inputs import (
    core_intake,
    core_patient,
    core_session,
    knowledge,
    latest_consultation,
)
from dermis.web.clinic.models import TreatmentSession

KIND_LABELS = {"care": "Do", "avoid": "Avoid", "expect": "Expect", "warning": "Call us"}


class References:
    """Numbers citation keys in order of first use, for the list at the end of a document."""

    def __init__(self) -> None:
        self.bibliography = knowledge().bibliography
        self.numbers: dict[str, int] = {}

    def cite(self, keys) -> list[int]:
        return [self.numbers.setdefault(k, len(self.numbers) + 1) for k in keys or ()]

    def entries(self) -> list[dict]:
        out = []
        for key, n in self.numbers.items():
            ref = self.bibliography.get(key)
            # A plan stored under an older knowledge base may cite a key that has since gone.
            citation = ref.citation if ref else f"{key} (not in the current bibliography)"
            out.append({"n": n, "key": key, "citation": citation, "note": ref.note if ref else ""})
        return out


# --- Aftercare -------------------------------------------------------------------------------


def session_aftercare(session: TreatmentSession) -> Aftercare:
    """The core's schedule for a charted session, in local time. Raises InputError."""
    start = timezone.localtime(session.performed_at)
    try:
        # Local time, so "until 18:00" and day boundaries match the patient's clock.
        core = core_session(session).model_copy(update={"start": start})
        intake = core_intake(latest_consultation(session.patient))
    except ValidationError as exc:
        raise input_error(exc) from None
    return aftercare(core, core_patient(session.patient, start.date()), intake, knowledge())


def _duration(hours: float) -> str:
    if hours < 48:
        return f"{hours:g} hours"
    return f"{hours / 24:g} days"


def _why(rule_id: str, session: TreatmentSession, ac: Aftercare) -> str:
    """Why this instruction applies to this patient, and why for that long (from the rule)."""
    rule = knowledge().aftercare[rule_id]
    reasons = []
    if rule.when:
        reasons.append(f"the health questionnaire records {rule.when.replace('_', ' ')}")
    if rule.phototypes:
        reasons.append(f"skin type Fitzpatrick {session.patient.fitzpatrick}")
    if rule.hours_by_depth and ac.depth_mm is not None:
        reasons.append(f"the length follows the needle depth used ({ac.depth_mm:g} mm)")
    return "; ".join(reasons)


def _group_days(days: list[dict]) -> list[dict]:
    """Merge runs of days with identical instructions ("Days 8-13") to keep the handout short."""
    groups: list[dict] = []
    for day in days:
        last = groups[-1] if groups else None
        if last and last["entries"] == day["entries"]:
            last["last"], last["last_date"] = day["number"], day["date"]
            last["today"] = last["today"] or day["today"]
        else:
            groups.append({**day, "first": day["number"], "last": day["number"]})
            groups[-1]["first_date"] = groups[-1]["last_date"] = day["date"]
    return groups


def aftercare_context(session: TreatmentSession, today: date) -> dict:
    """Everything the aftercare page and handout show; `error` names the field when charting
    is incomplete."""
    context = {"session": session, "patient": session.patient, "clinic": session.patient.clinic}
    try:
        ac = session_aftercare(session)
    except InputError as exc:
        return {**context, "error": exc}
    kb, refs = knowledge(), References()
    cites = {i.rule: refs.cite(i.citations) for i in ac.instructions}
    instructions = [
        {
            "kind": KIND_LABELS[i.kind],
            "text": i.text,
            "starts": i.starts,
            "ends": i.ends,
            "length": _duration((i.ends - i.starts).total_seconds() / 3600),
            "why": _why(i.rule, session, ac),
            "refs": cites[i.rule],
        }
        for i in ac.instructions
        if i.kind != "warning"
    ]
    days = [
        {
            "number": d.number,
            "date": d.date,
            "today": d.date == today,
            "entries": [
                {"kind": KIND_LABELS[e.kind], "text": e.text, "note": e.note, "refs": cites[e.rule]}
                for e in d.entries
            ],
        }
        for d in ac.days
    ]
    warnings = [
        {"text": i.text, "starts": i.starts, "ends": i.ends, "refs": cites[i.rule]}
        for i in ac.warnings()
    ]
    precare = [
        {"text": p.text, "days_before": p.days_before, "refs": refs.cite(p.citations)}
        for p in ac.precare
    ]
    return {
        **context,
        "aftercare": ac,
        "areas": [
            kb.areas[a.area].name if a.area in kb.areas else a.area for a in session.areas.all()
        ],
        "modality": kb.modalities[ac.modality].name,
        "instructions": instructions,
        "day_groups": _group_days(days),
        "today_number": (today - ac.days[0].date).days,
        "warnings": warnings,
        "precare": precare,
        "references": refs.entries(),
        "knowledge_version": kb.version,
    }


def today_for(session: TreatmentSession, today: date) -> dict:
    """A session's aftercare today, for the patient record page."""
    item = {
        "session": session,
        "day_number": (today - timezone.localdate(session.performed_at)).days,
    }
    try:
        ac = session_aftercare(session)
    except InputError as exc:
        return {**item, "error": exc}
    day = next((d for d in ac.days if d.date == today), None)
    now = clock.now()
    return {
        **item,
        "entries": [
            {"kind": KIND_LABELS[e.kind], "text": e.text, "note": e.note} for e in day.entries
        ]
        if day
        else [],
        "finished": day is None and today > ac.days[-1].date,
        "warnings": [i.text for i in ac.warnings() if i.starts <= now < i.ends],
    }


RECENT_DAYS = 14  # the record page shows aftercare for sessions of the last fortnight


def recent_sessions(patient, days: int = RECENT_DAYS):
    now = clock.now()
    return (
        patient.sessions.filter(performed_at__gte=now - timedelta(days=days), performed_at__lte=now)
        .select_related("patient__clinic")
        .prefetch_related("areas")
        .order_by("-performed_at")
    )


def aftercare_in_progress(patient) -> list[dict]:
    """The record page's aftercare panel: sessions of the last 14 days with today's
    instructions (the page asks for it for clinical staff only)."""
    today = clock.today()
    read = core_inputs.sessions(patient)  # inside the record page's read_once: read once
    if read is None:
        return [today_for(session, today) for session in recent_sessions(patient)]
    now = clock.now()
    since = now - timedelta(days=RECENT_DAYS)
    recent = [s for s in reversed(read) if since <= s.performed_at <= now]
    return [today_for(session, today) for session in recent]


def aftercare_changes_after(patient, now: datetime) -> datetime | None:
    """The first moment after `now` at which `aftercare_in_progress` would say something else
    with nothing written: a session coming into the last `RECENT_DAYS` or leaving them, or a
    recent session's warning starting or ending (a new day, which changes each session's day, is
    the caller's to count). None when nothing will; `now` itself outside the record page's
    `read_once` (nothing to go by: the panel is not to be kept)."""
    read = core_inputs.sessions(patient)
    if read is None:
        return now
    since = now - timedelta(days=RECENT_DAYS)
    moments = []
    for s in read:
        # In from `performed_at`; out from the first instant past RECENT_DAYS after it.
        left = s.performed_at + timedelta(days=RECENT_DAYS, microseconds=1)
        moments += [t for t in (s.performed_at, left) if t > now]
        if not since <= s.performed_at <= now:
            continue
        try:
            ac = session_aftercare(s)
        except InputError:  # shown as the error it is, whatever the time
            continue
        moments += [t for i in ac.warnings() for t in (i.starts, i.ends) if t > now]
    return min(moments, default=None)


def check_issue(
    actor: Actor, session: TreatmentSession, kind: gate.ActKind = gate.ActKind.AFTERCARE
) -> gate.Verdict:
    """Ask the gate whether this session's aftercare (or pre-care) may be given: its day, its
    modality and its areas; the session does not count against itself. ServiceError if not."""
    actor.require((*CLINICAL, PATIENT), "issuing aftercare")
    actor.own(session, "session")
    actor.require_self(session.patient)  # a patient reads their own sessions' aftercare only
    act = gate.Act(
        kind,
        session.modality,
        timezone.localtime(session.performed_at).date(),
        tuple(a.area for a in session.areas.all()),
    )
    return safety.check(actor, session.patient, act, exclude_session=session)


def aftercare_for(
    actor: Actor,
    session: TreatmentSession,
    today: date | None = None,
    kind: gate.ActKind = gate.ActKind.AFTERCARE,
) -> dict:
    """The aftercare page's and handout's content, once the gate allows it (ServiceError if not).
    `error` names the field when the charting is incomplete."""
    check_issue(actor, session, kind)
    return aftercare_context(session, today or timezone.localdate())
