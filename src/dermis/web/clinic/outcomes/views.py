"""Follow-up grades and the outcome forecast chart."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from dermis.core.planning import Plan
from dermis.web.clinic import form_errors
from dermis.web.clinic.access import CLINICAL, actor_of, audit, clinic_patient, staff_required
from dermis.web.clinic.core_inputs import active_plan, knowledge
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.outcomes import selectors, services
from dermis.web.clinic.patients import record_version


def _fmt(x: float) -> str:
    return f"{x:g}"


class GradeForm(forms.Form):
    area = forms.ChoiceField(label="Area")
    concern = forms.ChoiceField(label="Concern")
    grade = forms.FloatField(
        label="Grade today",
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
        help_text="On the concern's scale (see the scales below).",
    )
    baseline = forms.FloatField(
        label="Baseline grade",
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
        help_text="The grade before treatment; prefilled from the plan when it has this concern.",
    )
    graded_on = forms.DateField(
        label="Date graded", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    notes = forms.CharField(
        label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        kb = knowledge()
        self.fields["area"].choices = [(k, a.name) for k, a in kb.areas.items()]
        self.fields["concern"].choices = [
            (k, f"{c.name} ({kb.scales[c.scale].name})") for k, c in kb.concerns.items()
        ]


def _scales() -> list[dict]:
    kb = knowledge()
    return [
        {
            "concern": c.name,
            "scale": kb.scales[c.scale].name,
            "range": f"{_fmt(kb.scales[c.scale].min)}-{_fmt(kb.scales[c.scale].max)}",
            "labels": ", ".join(f"{k} {v}" for k, v in kb.scales[c.scale].labels.items()),
        }
        for c in kb.concerns.values()
    ]


def _planned_treatments(plan) -> list:
    if plan is None:
        return []
    return [t for c in Plan.from_dict(plan.content).courses for t in c.treatments]


@staff_required(CLINICAL)
def grade_create(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    plan = active_plan(patient)
    if request.method == "POST":
        form = GradeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_grade(
                    actor_of(request),
                    patient,
                    area=data["area"],
                    concern=data["concern"],
                    grade=data["grade"],
                    baseline=data["baseline"],
                    graded_on=data["graded_on"],
                    plan=plan,
                    notes=data["notes"],
                )
            except ServiceError as err:
                form_errors.show(form, err)
            else:
                messages.success(request, "Grade saved.")
                return redirect("patient-detail", patient_id=patient.pk)
        status = 400
    else:
        initial = {"graded_on": timezone.localdate()}
        treatments = _planned_treatments(plan)
        if treatments:
            first = treatments[0]
            initial.update(area=first.area, concern=first.concern, baseline=first.severity)
        form = GradeForm(initial=initial)
        audit(request, "view", patient, summary="grade form")
        status = 200
    return render(
        request,
        "clinic/followups/grade_form.html",
        {"patient": patient, "form": form, "scales": _scales()},
        status=status,
    )


@staff_required(CLINICAL)
def patient_forecast(request, patient_id: int):
    patient, version = record_version.patient_of(request, patient_id)
    svg, reason = selectors.forecast_chart(patient, version=version)
    audit(request, "view", patient, summary="forecast chart")
    if not svg:
        response = HttpResponse(f"No forecast: {reason}.", content_type="text/plain", status=404)
    else:
        response = HttpResponse(svg, content_type="image/svg+xml")
        # matplotlib styles its SVG inline; nothing else may load or run if it is opened directly
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("patients/<int:patient_id>/grades/new/", grade_create, name="grade-create"),
    path("patients/<int:patient_id>/forecast.svg", patient_forecast, name="patient-forecast"),
]
