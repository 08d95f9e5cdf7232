"""Treatment plans: versions, revisions within safe bounds; the signed consent."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse

from dermis.core.errors import InputError
from dermis.web.clinic.access import CLINICAL, actor_of, audit, clinic_object, staff_required
from dermis.web.clinic.consultations import selectors
from dermis.web.clinic.consultations import services as writes
from dermis.web.clinic.consultations.consent_records import consent_integrity
from dermis.web.clinic.consultations.forms import AdjustForm
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.models import ConsentRecord, TreatmentPlan
from dermis.web.clinic.presentation import References, present


def _url(name: str, pk: int) -> str | None:
    """A link to another area's page, if that page is installed."""
    try:
        return reverse(name, kwargs={"pk": pk})
    except NoReverseMatch:
        return None


def _plan_context(plan: TreatmentPlan, form=None) -> dict:
    refs = References(knowledge())
    versions = (
        TreatmentPlan.objects.filter(patient=plan.patient)
        .select_related("created_by", "consultation")
        .order_by("-version")
    )
    context = {
        "plan": plan,
        "patient": plan.patient,
        "content": present(plan.content, refs),
        "adjustments": present(plan.adjustments, refs),
        "versions": versions,
        "plan_pdf": _url("plan-pdf", plan.pk),
        "consent_pdf": _url("consent-pdf", plan.consent_id) if plan.consent_id else None,
        "form": form,
        "adjust_rows": form.rows(cite=refs.cite) if form is not None else None,
        "recognition": selectors.recognition(plan.consultation),
        "consultation": plan.consultation,
        "confirmable": False,
    }
    context["references"] = refs.listing()
    return context


@staff_required(CLINICAL)
def plan_detail(request, pk: int):
    plan = clinic_object(request, TreatmentPlan, pk)
    audit(request, "view", plan)
    return render(request, "clinic/plans/detail.html", _plan_context(plan))


@staff_required(CLINICAL)
def plan_revise(request, pk: int):
    plan = clinic_object(request, TreatmentPlan, pk)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        messages.error(request, "Only the active version of a plan can be revised.")
        return redirect("plan-detail", pk=pk)
    try:
        bounds = writes.plan_bounds(plan.consultation, plan.content)
    except InputError as err:
        messages.error(request, f"This version cannot be revised: {err.message}.")
        return redirect("plan-detail", pk=pk)
    data = request.POST if request.method == "POST" else None
    form = AdjustForm(plan.content, bounds, knowledge(), data, note=True)
    if request.method == "POST" and form.is_valid():
        try:
            revised, adjusted = writes.revise_plan(
                actor_of(request), plan, form.changes(), form.cleaned_data["note"]
            )
        except InputError as err:
            if getattr(err, "status", 422) == 409:
                messages.error(request, f"Not saved: {err.message}.")
                return redirect("plan-detail", pk=pk)
            form.add_core_error(err)
        else:
            for warning in adjusted.warnings:
                messages.warning(request, warning)
            messages.success(request, f"Plan version {revised.version} saved.")
            return redirect("plan-detail", pk=revised.pk)
    if request.method != "POST":
        audit(request, "view", plan, summary="revision form")
    status = 400 if request.method == "POST" else 200
    return render(request, "clinic/plans/revise.html", _plan_context(plan, form), status=status)


@staff_required(CLINICAL)
def consent_detail(request, pk: int):
    consent = clinic_object(request, ConsentRecord, pk)
    audit(request, "view", consent)
    context = {
        "consent": consent,
        "patient": consent.patient,
        "plans": consent.plans.order_by("version"),
        "consent_pdf": _url("consent-pdf", consent.pk),
        "hash_ok": hashlib.sha256(consent.text.encode("utf-8")).hexdigest() == consent.text_sha256,
        "integrity": consent_integrity(consent),
    }
    return render(request, "clinic/plans/consent.html", context)


@staff_required(CLINICAL)
def consent_signature(request, pk: int):
    consent = clinic_object(request, ConsentRecord, pk)
    audit(request, "view", consent, summary="signature image")
    response = HttpResponse(bytes(consent.signature_png), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("plans/<int:pk>/", plan_detail, name="plan-detail"),
    path("plans/<int:pk>/revise/", plan_revise, name="plan-revise"),
    path("consents/<int:pk>/", consent_detail, name="consent-detail"),
    path("consents/<int:pk>/signature.png", consent_signature, name="consent-signature"),
]
