"""Documents: aftercare on screen and as a patient handout, plan PDF, signed consent PDF.

Views only translate: the schedule comes from `dermis.core.aftercare`, the plan and screening are
the core's stored output, and every citation is resolved in the knowledge base's bibliography.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_safe
from pydantic import ValidationError

from dermis.core.aftercare import Aftercare, aftercare
from dermis.core.errors import InputError
from dermis.core.patient import input_error
from dermis.web.clinic.access import CLINICAL, audit, clinic_object, staff_required
from dermis.web.clinic.core_inputs import (
    core_intake,
    core_patient,
    core_session,
    knowledge,
    latest_consultation,
)
from dermis.web.clinic.documents import pdf
from dermis.web.clinic.models import ConsentRecord, TreatmentPlan, TreatmentSession

KIND_LABELS = {"care": "Do", "avoid": "Avoid", "expect": "Expect", "warning": "Call us"}
DECISION_LABELS = {
    "modality": ("Modality", ""),
    "device": ("Device", ""),
    "depth_mm": ("Needle depth", " mm"),
    "tip": ("Tip", ""),
    "sessions": ("Sessions", ""),
    "interval_days": ("Interval", " days"),
    "maintenance_interval_days": ("Maintenance interval", " days"),
    "session_minutes": ("Session length", " minutes"),
    "downtime_days": ("Downtime", " days"),
    "earliest_start": ("Earliest start", ""),
    "serum": ("Serum", ""),
}


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
    now = timezone.now()
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


def recent_sessions(patient, days: int = 14):
    now = timezone.now()
    return (
        patient.sessions.filter(performed_at__gte=now - timedelta(days=days), performed_at__lte=now)
        .select_related("patient__clinic")
        .prefetch_related("areas")
        .order_by("-performed_at")
    )


@require_safe
@staff_required(CLINICAL)
def aftercare_detail(request, pk: int) -> HttpResponse:
    session = clinic_object(request, TreatmentSession, pk)
    context = aftercare_context(session, timezone.localdate())
    audit(request, "view", session, summary="aftercare")
    return render(request, "clinic/documents/aftercare_detail.html", context)


@require_safe
@staff_required(CLINICAL)
def aftercare_pdf(request, pk: int) -> HttpResponse:
    session = clinic_object(request, TreatmentSession, pk)
    context = aftercare_context(session, timezone.localdate())
    if "error" in context:
        return render(request, "clinic/documents/unavailable.html", context, status=409)
    document = pdf.render_document("clinic/documents/aftercare_pdf.html", context)
    audit(request, "download", session, summary="aftercare handout PDF")
    return pdf.pdf_response(document, pdf.safe_filename("aftercare", "session", session.pk))


# --- Plan ------------------------------------------------------------------------------------


def _name(table: dict, key) -> str:
    item = table.get(key)
    return item.name if item is not None else str(key)


def _value(what: str, value) -> str:
    kb = knowledge()
    unit = DECISION_LABELS.get(what, ("", ""))[1]
    if isinstance(value, dict) and {"min", "max"} <= value.keys():
        lo, hi = value["min"], value["max"]
        text = f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"
    elif value is None or value == "":
        return "—"
    elif isinstance(value, float):
        text = f"{value:g}"
    elif what == "device":
        return _name(kb.devices, value)
    elif what == "modality":
        return _name(kb.modalities, value)
    elif what == "serum":
        return _name(kb.serums, value)
    else:
        text = str(value)
    return text + unit


def _decision(d: dict, refs: References) -> dict:
    what = d.get("what", "")
    value = _value(what, d.get("value"))
    return {
        "label": DECISION_LABELS.get(what, (what.replace("_", " ").capitalize(), ""))[0],
        "value": value,
        # The device decision's reason is just the device's name: say it once.
        "reason": "" if d.get("reason") == value else d.get("reason", ""),
        "refs": refs.cite(d.get("citations")),
    }


def _finding(f: dict, refs: References) -> dict:
    kb = knowledge()
    return {
        **f,
        "modality_name": _name(kb.modalities, f.get("modality")),
        "area_names": ", ".join(_name(kb.areas, a) for a in f.get("areas") or []) or "all areas",
        "refs": refs.cite(f.get("citations")),
    }


def plan_context(plan: TreatmentPlan) -> dict:
    kb, refs, content = knowledge(), References(), plan.content or {}
    findings = [_finding(f, refs) for f in (content.get("screening") or {}).get("findings", [])]
    courses = [
        {
            "modality": _name(kb.modalities, c.get("modality")),
            "earliest_start": c.get("earliest_start"),
            "decisions": [_decision(d, refs) for d in c.get("decisions", [])],
            "treatments": [
                {
                    "area": _name(kb.areas, t.get("area")),
                    "concern": _name(kb.concerns, t.get("concern")),
                    "severity": t.get("severity"),
                    "band": t.get("severity_band"),
                    "decisions": [_decision(d, refs) for d in t.get("decisions", [])],
                }
                for t in c.get("treatments", [])
            ],
            "serums": [_decision(d, refs) for d in c.get("serums", [])],
            "precautions": [_finding(f, refs) for f in c.get("precautions", [])],
        }
        for c in content.get("courses", [])
    ]
    not_treated = []
    for d in content.get("not_treated", []):
        area, _, concern = str(d.get("what", "")).partition("/")
        label = f"{_name(kb.areas, area)}: {_name(kb.concerns, concern)}"
        not_treated.append({**_decision(d, refs), "label": label})
    adjustments = [
        {
            "label": DECISION_LABELS.get(a.get("what"), (str(a.get("what")), ""))[0],
            "where": " · ".join(
                x
                for x in (
                    _name(kb.areas, a["area"]) if a.get("area") else "",
                    _name(kb.concerns, a["concern"]) if a.get("concern") else "",
                )
                if x
            ),
            "from": _value(a.get("what", ""), a.get("from")),
            "to": _value(a.get("what", ""), a.get("to")),
            "reason": a.get("reason", ""),
        }
        for a in plan.adjustments or []
    ]
    return {
        "plan": plan,
        "patient": plan.patient,
        "clinic": plan.patient.clinic,
        "content": content,
        "findings": findings,
        "courses": courses,
        "not_treated": not_treated,
        "adjustments": adjustments,
        "references": refs.entries(),
    }


@require_safe
@staff_required(CLINICAL)
def plan_pdf(request, pk: int) -> HttpResponse:
    plan = clinic_object(request, TreatmentPlan, pk)
    document = pdf.render_document("clinic/documents/plan_pdf.html", plan_context(plan))
    audit(request, "download", plan, summary=f"plan version {plan.version} PDF")
    return pdf.pdf_response(document, pdf.safe_filename("plan", plan.pk, "v", plan.version))


# --- Consent ---------------------------------------------------------------------------------


def consent_context(consent: ConsentRecord) -> dict:
    signature = bytes(consent.signature_png or b"")
    return {
        "consent": consent,
        "patient": consent.patient,
        "clinic": consent.patient.clinic,
        # Only a real PNG is embedded; anything else is reported rather than rendered.
        "signature_src": "data:image/png;base64," + base64.b64encode(signature).decode()
        if signature.startswith(b"\x89PNG\r\n\x1a\n")
        else "",
        "hash_matches": hashlib.sha256(consent.text.encode()).hexdigest() == consent.text_sha256,
    }


@require_safe
@staff_required(CLINICAL)
def consent_pdf(request, pk: int) -> HttpResponse:
    consent = clinic_object(request, ConsentRecord, pk)
    document = pdf.render_document("clinic/documents/consent_pdf.html", consent_context(consent))
    audit(request, "download", consent, summary="signed consent PDF")
    return pdf.pdf_response(document, pdf.safe_filename("consent", consent.pk))


urlpatterns = [
    path("sessions/<int:pk>/aftercare/", aftercare_detail, name="aftercare-detail"),
    path("sessions/<int:pk>/aftercare.pdf", aftercare_pdf, name="aftercare-pdf"),
    path("plans/<int:pk>/plan.pdf", plan_pdf, name="plan-pdf"),
    path("consents/<int:pk>/consent.pdf", consent_pdf, name="consent-pdf"),
]
