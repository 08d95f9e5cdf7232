"""Before the visit, at home: the health questions, photo consent and the treatment consent; and
the practitioner's review of what the patient answered."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from dermis.core import intake_questions
from dermis.core.errors import InputError
from dermis.core.screening import Screening
from dermis.web.clinic.access import (
    CLINICAL,
    actor_of,
    audit,
    client_ip,
    clinic_patient,
    staff_required,
)
from dermis.web.clinic.consultations.services import decode_signature
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence, show
from dermis.web.clinic.models import PortalIntake
from dermis.web.clinic.portal import consent, plain, services
from dermis.web.clinic.portal.access import patient_actor, patient_required
from dermis.web.clinic.portal.forms import INTERESTS, IntakeForm

TITLES = {consent.PHOTOS: "Photographs for your record", consent.TREATMENT: "Consent to treatment"}


class InterestForm(forms.Form):
    interest = forms.ChoiceField(
        label="Which treatment are you interested in?", choices=INTERESTS, required=False
    )


class SignForm(forms.Form):
    consent_version = forms.CharField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(label="I have read the text above and I agree to it")
    signer_name = forms.CharField(
        label="Your full name",
        max_length=200,
        help_text="Type your name as the clinic has it. You can also sign in the box below.",
    )
    signature = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_signature(self) -> bytes:
        data = self.cleaned_data.get("signature") or ""
        if not data:
            return b""  # a typed signature
        try:
            return decode_signature(data)
        except InputError as err:
            raise forms.ValidationError(f"The signature {err.message}.") from None


@patient_required
def health_questions(request):
    patient = request.patient
    posted = request.method == "POST"
    form = IntakeForm(request.POST if posted else None)
    interest = InterestForm(request.POST if posted else None)
    if posted and form.is_valid() and interest.is_valid():
        try:
            made = services.submit_intake(
                patient_actor(request),
                patient,
                form.intake(),
                interest.cleaned_data.get("interest") or "",
            )
        except InputError as err:
            show(form, err)
        else:
            outcome = plain.outcome(Screening.from_dict(made.screening), made.modality)
            return render(
                request,
                "clinic/portal/answered.html",
                {"patient": patient, "outcome": outcome},
            )
    return render(
        request,
        "clinic/portal/health_questions.html",
        {"patient": patient, "form": form, "interest": interest},
        status=422 if posted else 200,
    )


@patient_required
def sign_consent(request, kind: str):
    patient = request.patient
    if kind not in TITLES:
        raise Http404("no such consent")
    try:
        text, _ = consent.text_for(patient, kind)
    except ServiceError:
        text = None
    done = consent.signed(patient, kind)
    posted = request.method == "POST"
    form = SignForm(
        request.POST if posted else None, initial={"consent_version": text and text.version}
    )
    if posted and text is not None and done is None and form.is_valid():
        try:
            done = consent.sign(
                patient_actor(request),
                patient,
                kind,
                consent.HomeSignature(
                    form.cleaned_data["consent_version"],
                    form.cleaned_data["signer_name"],
                    form.cleaned_data["signature"],
                    client_ip(request),
                ),
            )
        except ServiceError as err:
            show(form, err, {"consent_version": "signer_name"})
        else:
            messages.success(request, "Thank you. The clinic has your signed consent.")
            return redirect("portal-home")
    context = {
        "patient": patient,
        "title": TITLES[kind],
        "text": text,
        "done": done,
        "form": form,
        "kind": kind,
    }
    return render(
        request,
        "clinic/portal/consent.html",
        context,
        status=422 if posted and done is None else 200,
    )


def _answers(stored: dict) -> list[tuple[str, str]]:
    """The stored intake as (question, answer) lines, leaving out the questions answered no."""
    out = []
    for key, value in stored.items():
        if not value or value == "none":
            continue
        question = _ASKED_FOR.get(key)
        choices = {c.value: c.clinic for c in question.choices} if question else {}
        if value is True:
            text = "yes"
        elif isinstance(value, list):
            text = "; ".join(str(v) for v in value)
        else:
            text = choices.get(value, str(value))
        label = (question.clinic or question.patient) if question else None
        out.append((label or key.replace("_", " "), text))
    return out


# Each screening input with the question that asks it, in the practitioner's words.
_ASKED_FOR = {q.screens: q for q in intake_questions.QUESTIONS if q.screens}


@staff_required(CLINICAL)
def review(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    rows = []
    for row in patient.portal_intakes.select_related("reviewed_by"):
        screening = Screening.from_dict(row.screening)
        rows.append({"row": row, "findings": screening.findings, "answers": _answers(row.answers)})
    audit(request, "view", patient, summary="portal answers")
    return render(
        request,
        "clinic/portal/review.html",
        {"patient": patient, "rows": rows},
    )


@staff_required(CLINICAL)
@require_POST
def reviewed(request, pk: int):
    row = get_object_or_404(
        PortalIntake.objects.select_related("patient"),
        pk=pk,
        patient__clinic=request.staff.clinic,
    )
    try:
        services.review_intake(actor_of(request), row)
    except ServiceError as err:
        messages.error(request, sentence(err.message))
    else:
        messages.success(request, "Marked as reviewed.")
    return redirect("portal-answers", patient_id=row.patient_id)


urlpatterns = [
    path("my/health-questions/", health_questions, name="portal-health-questions"),
    path("my/consent/<str:kind>/", sign_consent, name="portal-consent"),
    path("patients/<int:patient_id>/portal-answers/", review, name="portal-answers"),
    path("portal-answers/<int:pk>/reviewed/", reviewed, name="portal-answers-reviewed"),
]
