"""Consultation: intake, assessment, screening, proposal, consent, acceptance."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from dermis.core.errors import InputError
from dermis.web.clinic.access import (
    CLINICAL,
    actor_of,
    audit,
    client_ip,
    clinic_object,
    clinic_patient,
    staff_required,
)
from dermis.web.clinic.consultations import selectors
from dermis.web.clinic.consultations import services as writes
from dermis.web.clinic.consultations.forms import (
    AdjustForm,
    ConsentForm,
    ConsultationForm,
    ConsultationForms,
    initial_from,
)
from dermis.web.clinic.core_inputs import knowledge, latest_consultation
from dermis.web.clinic.models import Consultation
from dermis.web.clinic.presentation import References, present


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
        "recognition": selectors.recognition(consultation),
        "confirmable": consultation.status == Consultation.Status.OPEN,
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
                home_consent=writes.signed_at_home(consultation, text.version),
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
                    actor_of(request), patient, intake, assessment, phototype
                )
            except InputError as err:
                forms.add_core_error(err)
            else:
                return redirect("consultation-detail", pk=consultation.pk)
        status = 400
    else:
        initial = {"main": {"fitzpatrick": patient.fitzpatrick or None}}
        if previous is not None:
            initial = initial_from(previous.intake, previous.assessment, patient.fitzpatrick)
        # "Start a consultation with these answers" from the patient's portal answers.
        answered = str(request.GET.get("portal", ""))
        from_portal = (
            patient.portal_intakes.filter(pk=int(answered)).first() if answered.isdigit() else None
        )
        if from_portal is not None:
            assessment = previous.assessment if previous is not None else None
            initial = initial_from(from_portal.answers, assessment, patient.fitzpatrick)
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
    # The patient signed this plan's consent at home: no second signature (the service checks
    # that the text the plan needs is the one signed).
    at_home = request.POST.get("use_home_consent") == "1"
    if all([adjust_form.is_valid(), at_home or consent_form.is_valid()]):
        consent = writes.SignedConsent(
            shown_version="" if at_home else consent_form.cleaned_data["consent_version"],
            signer_name="" if at_home else consent_form.cleaned_data["signer_name"],
            signature_png=b"" if at_home else consent_form.cleaned_data["signature"],
            ip_address=client_ip(request),
        )
        try:
            plan, adjusted = writes.accept_plan(
                actor_of(request), consultation, adjust_form.changes(), consent
            )
        except InputError as err:
            if getattr(err, "status", 422) == 409:
                messages.error(request, f"Not saved: {err.message}.")
                return redirect("consultation-detail", pk=pk)
            if err.field in consent_form.fields:
                consent_form.add_error(err.field, err.message[:1].upper() + err.message[1:])
            else:
                adjust_form.add_core_error(err)
        else:
            for warning in adjusted.warnings:
                messages.warning(request, warning)
            messages.success(request, f"Plan version {plan.version} accepted and consent stored.")
            return redirect("plan-detail", pk=plan.pk)
    context = _detail_context(request, consultation, adjust_form, consent_form)
    return render(request, "clinic/consultations/detail.html", context, status=400)


@staff_required(CLINICAL)
@require_POST
def consultation_facts(request, pk: int):
    consultation = clinic_object(request, Consultation, pk)
    keep = [int(v) for v in request.POST.getlist("keep") if v.isdigit()]
    try:
        writes.confirm_facts(actor_of(request), consultation, keep)
    except InputError as err:
        messages.error(request, f"Not saved: {err.message}.")
    else:
        messages.success(request, "Recognised facts confirmed; screening and proposal updated.")
    return redirect("consultation-detail", pk=pk)


urlpatterns = [
    path(
        "patients/<int:patient_id>/consultations/new/",
        consultation_create,
        name="consultation-create",
    ),
    path("consultations/<int:pk>/", consultation_detail, name="consultation-detail"),
    path("consultations/<int:pk>/accept/", consultation_accept, name="consultation-accept"),
    path("consultations/<int:pk>/facts/", consultation_facts, name="consultation-facts"),
]
