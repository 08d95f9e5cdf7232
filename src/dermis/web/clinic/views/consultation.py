"""Consultation: intake, assessment, screening, proposal, consent, acceptance."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from dermis.core.errors import InputError
from dermis.web.clinic import consultations as writes
from dermis.web.clinic.access import (
    CLINICAL,
    audit,
    client_ip,
    clinic_object,
    clinic_patient,
    staff_required,
)
from dermis.web.clinic.core_inputs import knowledge, latest_consultation
from dermis.web.clinic.forms_consultation import (
    AdjustForm,
    ConsentForm,
    ConsultationForm,
    ConsultationForms,
    initial_from,
)
from dermis.web.clinic.models import Consultation

# Labels for the plan's decisions ("what"), as a practitioner would say them.
WHAT = {
    "modality": "Treatment",
    "device": "Device",
    "depth_mm": "Needle depth (mm)",
    "tip": "Tip",
    "sessions": "Sessions",
    "interval_days": "Days between sessions",
    "maintenance_interval_days": "Maintenance every (days)",
    "session_minutes": "Session length (minutes)",
    "downtime_days": "Downtime (days)",
    "earliest_start": "Earliest start",
    "serum": "Serum",
}


class References:
    """Numbered sources for one page: each citation key gets a number the first time it is seen."""

    def __init__(self, kb):
        self.kb, self.keys = kb, {}

    def cite(self, key: str) -> dict:
        number = self.keys.setdefault(key, len(self.keys) + 1)
        return {"key": key, "number": number}

    def listing(self) -> list[dict]:
        out = []
        for key, number in self.keys.items():
            ref = self.kb.bibliography.get(key)
            out.append(
                {
                    "key": key,
                    "number": number,
                    "citation": ref.citation if ref else key,
                    "url": ref.url if ref else None,
                    "tag": ref.tag if ref else "",
                }
            )
        return out


def _value_text(value) -> str:
    if isinstance(value, dict) and set(value) == {"min", "max"}:
        return f"{value['min']}–{value['max']}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "—" if value is None else str(value)


def _finding_style(f: dict) -> dict:
    """Badge, border and words for a screening finding's severity."""
    until = date.fromisoformat(f["until"]) if f.get("until") else None
    if f["severity"] == "absolute":
        style = (
            ("defer", "defer", "Defer") if until else ("contraindicated", "stop", "Do not treat")
        )
    elif f["severity"] == "relative":
        style = ("caution", "caution", "Modify")
    else:
        style = ("", "warn", "Precaution")
    return {"css": style[0], "badge": style[1], "severity_label": style[2], "until_date": until}


def present(data, refs: References):
    """A copy of stored core output with names, readable values and numbered sources added."""
    kb = refs.kb
    if isinstance(data, list):
        return [present(item, refs) for item in data]
    if not isinstance(data, dict):
        return data
    out = {k: present(v, refs) for k, v in data.items()}
    if isinstance(data.get("citations"), list):
        out["sources"] = [refs.cite(key) for key in data["citations"]]
    if data.get("area") in kb.areas:
        out["area_name"] = kb.areas[data["area"]].name
    if data.get("concern") in kb.concerns:
        out["concern_name"] = kb.concerns[data["concern"]].name
    if data.get("modality") in kb.modalities:
        out["modality_name"] = kb.modalities[data["modality"]].name
    if isinstance(data.get("areas"), list):
        out["area_names"] = ", ".join(
            kb.areas[a].name if a in kb.areas else a for a in data["areas"]
        )
    if "rule" in data and "severity" in data:
        out.update(_finding_style(data))
    if "what" in data and ("value" in data or "from" in data):
        out["label"] = WHAT.get(data["what"], data["what"].replace("_", " ").capitalize())
        area, _, concern = data["what"].partition("/")
        if area in kb.areas and concern in kb.concerns:  # a concern the plan does not treat
            out["label"] = f"{kb.areas[area].name}, {kb.concerns[concern].name.lower()}"
        out["value_text"] = _value_text(data.get("value"))
        names = {"device": kb.devices, "modality": kb.modalities, "serum": kb.serums}
        table = names.get(data["what"], {})
        if isinstance(data.get("value"), str) and data["value"] in table:
            out["value_text"] = table[data["value"]].name
    return out


def _answers(intake: dict) -> list[dict]:
    """The questionnaire's 'yes' answers, labelled as the form asked them."""
    fields = ConsultationForm.base_fields
    out = []
    for name, value in intake.items():
        if not value or value == "none":
            continue
        if name == "recent_procedures":
            for p in value:
                where = ", ".join(p["areas"]) or "all areas"
                out.append(
                    {
                        "label": f"Recent {p['kind'].replace('_', ' ')}",
                        "value": f"{p['date']} ({where})",
                    }
                )
            continue
        label = fields[name].label if name in fields else name
        shown = "" if value is True else ", ".join(value) if isinstance(value, list) else value
        out.append({"label": label, "value": shown})
    return out


def _acceptable(consultation: Consultation) -> bool:
    """Open, with something planned: the page offers the adjust-and-accept form."""
    return consultation.status == Consultation.Status.OPEN and bool(
        consultation.proposal["courses"]
    )


def _detail_context(request, consultation: Consultation, adjust_form=None, consent_form=None):
    kb = knowledge()
    refs = References(kb)
    proposal = consultation.proposal
    assessment = present(consultation.assessment, refs)
    for c in assessment["concerns"]:
        concern = kb.concerns.get(c["concern"])
        c["scale_name"] = kb.scales[concern.scale].name if concern else ""
    context = {
        "consultation": consultation,
        "patient": consultation.patient,
        "screening": present(consultation.screening, refs),
        "proposal": present(proposal, refs),
        "answers": _answers(consultation.intake),
        "assessment": assessment,
        "plans": consultation.plans.order_by("version"),
    }
    if _acceptable(consultation):
        try:
            bounds = writes.plan_bounds(consultation, proposal)
        except InputError as err:
            context["accept_problem"] = err.message
        else:
            text = writes.consent_text_for(proposal)
            adjust_form = adjust_form or AdjustForm(proposal, bounds, kb)
            consent_form = consent_form or ConsentForm(initial={"consent_version": text.version})
            context.update(
                adjust_form=adjust_form,
                adjust_rows=adjust_form.rows(cite=refs.cite),
                consent_form=consent_form,
                consent=text,
                error_items=adjust_form.error_summary() + consent_form.error_summary(),
            )
    context["references"] = refs.listing()
    return context


@staff_required(CLINICAL)
def consultation_create(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    kb = knowledge()
    previous = latest_consultation(patient)
    if request.method == "POST":
        forms = ConsultationForms(kb, request.POST)
        if forms.is_valid():
            try:
                intake, assessment, phototype = forms.inputs()
                consultation = writes.create_consultation(
                    patient, request.staff, intake, assessment, phototype
                )
            except InputError as err:
                forms.add_core_error(err)
            else:
                audit(request, "create", consultation, summary="consultation with screening")
                return redirect("consultation-detail", pk=consultation.pk)
        status = 400
    else:
        initial = {"main": {"fitzpatrick": patient.fitzpatrick or None}}
        if previous is not None:
            initial = initial_from(previous.intake, previous.assessment, patient.fitzpatrick)
        forms = ConsultationForms(kb, initial=initial)
        audit(request, "view", patient, summary="consultation form")
        status = 200
    context = {"patient": patient, "forms": forms, "previous": previous, "kb": kb}
    return render(request, "clinic/consultations/form.html", context, status=status)


@staff_required(CLINICAL)
def consultation_detail(request, pk: int):
    consultation = clinic_object(request, Consultation, pk)
    audit(request, "view", consultation)
    return render(
        request, "clinic/consultations/detail.html", _detail_context(request, consultation)
    )


@staff_required(CLINICAL)
@require_POST
def consultation_accept(request, pk: int):
    consultation = clinic_object(request, Consultation, pk)
    if not _acceptable(consultation):
        messages.error(request, "This consultation has no plan waiting to be accepted.")
        return redirect("consultation-detail", pk=pk)
    try:
        bounds = writes.plan_bounds(consultation, consultation.proposal)
    except InputError as err:
        messages.error(request, f"Not saved: {err.message}.")
        return redirect("consultation-detail", pk=pk)
    adjust_form = AdjustForm(consultation.proposal, bounds, knowledge(), request.POST)
    consent_form = ConsentForm(request.POST)
    if all([adjust_form.is_valid(), consent_form.is_valid()]):
        consent = writes.SignedConsent(
            shown_version=consent_form.cleaned_data["consent_version"],
            signer_name=consent_form.cleaned_data["signer_name"],
            signature_png=consent_form.cleaned_data["signature"],
            ip_address=client_ip(request),
        )
        try:
            plan, adjusted = writes.accept_plan(
                consultation, adjust_form.changes(), consent, request.user
            )
        except InputError as err:
            if err.field in consent_form.fields:
                consent_form.add_error(err.field, err.message[:1].upper() + err.message[1:])
            else:
                adjust_form.add_core_error(err)
        except writes.StateError as err:
            messages.error(request, f"Not saved: {err}.")
            return redirect("consultation-detail", pk=pk)
        else:
            audit(request, "sign", plan.consent, summary="consent signed")
            audit(request, "create", plan, summary=f"plan version {plan.version} accepted")
            for warning in adjusted.warnings:
                messages.warning(request, warning)
            messages.success(request, f"Plan version {plan.version} accepted and consent stored.")
            return redirect("plan-detail", pk=plan.pk)
    context = _detail_context(request, consultation, adjust_form, consent_form)
    return render(request, "clinic/consultations/detail.html", context, status=400)


urlpatterns = [
    path(
        "patients/<int:patient_id>/consultations/new/",
        consultation_create,
        name="consultation-create",
    ),
    path("consultations/<int:pk>/", consultation_detail, name="consultation-detail"),
    path("consultations/<int:pk>/accept/", consultation_accept, name="consultation-accept"),
]
