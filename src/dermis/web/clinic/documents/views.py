"""Documents: aftercare on screen and as a patient handout, plan PDF, signed consent PDF.

Views only translate: the schedule comes from `dermis.core.aftercare`, the plan and screening are
the core's stored output, and every citation is resolved in the knowledge base's bibliography.
"""

from __future__ import annotations

import base64
import hashlib

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from dermis.web.clinic.access import CLINICAL, actor_of, audit, clinic_object, staff_required
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.documents import pdf
from dermis.web.clinic.documents.selectors import References, aftercare_for
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import ConsentRecord, TreatmentPlan, TreatmentSession

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


# --- Aftercare ---


@require_safe
@staff_required(CLINICAL)
def aftercare_detail(request, pk: int) -> HttpResponse:
    session = clinic_object(request, TreatmentSession, pk)
    try:
        context = aftercare_for(actor_of(request), session)
    except ServiceError as err:
        return _unavailable(request, session, err)
    audit(request, "view", session, summary="aftercare")
    return render(request, "clinic/documents/aftercare_detail.html", context)


@require_safe
@staff_required(CLINICAL)
def aftercare_pdf(request, pk: int) -> HttpResponse:
    session = clinic_object(request, TreatmentSession, pk)
    try:
        context = aftercare_for(actor_of(request), session)
    except ServiceError as err:
        return _unavailable(request, session, err)
    if "error" in context:
        return render(request, "clinic/documents/unavailable.html", context, status=409)
    document = pdf.render_document("clinic/documents/aftercare_pdf.html", context)
    audit(request, "download", session, summary="aftercare handout PDF")
    return pdf.pdf_response(document, pdf.safe_filename("aftercare", "session", session.pk))


def _unavailable(request, session: TreatmentSession, err: ServiceError) -> HttpResponse:
    """The gate's refusal (its reason, date and sources) instead of the document."""
    audit(request, "denied", session, summary="aftercare refused by the safety gate")
    context = {"session": session, "patient": session.patient, "error": err}
    return render(request, "clinic/documents/unavailable.html", context, status=422)


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
