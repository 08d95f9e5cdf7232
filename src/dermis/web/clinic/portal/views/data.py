"""The patient's own data: the subject-access export, and asking the clinic to erase it."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.portal import services
from dermis.web.clinic.portal.access import patient_actor, patient_required
from dermis.web.portability import subject_access

RETENTION = (
    "Clinics must keep clinical records (your health answers, consent, treatment notes and "
    "photographs) for a set time after your last treatment, usually at least 8 years for "
    "adults. The clinic will erase what it may, tell you what it must keep and for how long, "
    "and delete the rest when that time is up."
)


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label="Anything you want the clinic to know (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@patient_required
def my_data(request):
    patient = request.patient
    return render(
        request,
        "clinic/portal/data.html",
        {
            "patient": patient,
            "form": ErasureForm(),
            "asked": patient.erasure_requests.first(),
            "retention": RETENTION,
        },
    )


@patient_required
def download(request):
    patient = request.patient
    record(patient_actor(request), Action.EXPORT, patient, summary="subject access export")
    data = subject_access(patient)
    response = HttpResponse(
        json.dumps(data, indent=2, default=str), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="my-record.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@patient_required
@require_POST
def ask_erasure(request):
    form = ErasureForm(request.POST)
    if form.is_valid():
        try:
            services.request_erasure(
                patient_actor(request), request.patient, form.cleaned_data["reason"]
            )
        except ServiceError as err:
            messages.error(request, sentence(err.message))
        else:
            messages.success(request, "The clinic has your request and will contact you.")
    return redirect("portal-data")


urlpatterns = [
    path("my/data/", my_data, name="portal-data"),
    path("my/data/download/", download, name="portal-data-download"),
    path("my/data/erase/", ask_erasure, name="portal-erasure"),
]
