"""The patient's aftercare, day by day, and their check-ins; the practitioner's acknowledgement
of an alert a check-in raised."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from dermis.web.clinic import clock
from dermis.web.clinic.access import CLINICAL, actor_of, staff_required
from dermis.web.clinic.documents.selectors import aftercare_for
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence, show
from dermis.web.clinic.models import CheckIn, TreatmentSession
from dermis.web.clinic.portal import checkins
from dermis.web.clinic.portal.access import patient_actor, patient_required
from dermis.web.clinic.portal.selectors import out_of_hours


class CheckInForm(forms.Form):
    looks = forms.ChoiceField(
        label="How does your skin look?",
        choices=list(checkins.LOOKS.items()),
        widget=forms.RadioSelect,
    )
    feels = forms.ChoiceField(
        label="How does it feel?", choices=list(checkins.FEELS.items()), widget=forms.RadioSelect
    )
    improvement = forms.TypedChoiceField(
        label="Since your treatment started, how has your skin changed overall?",
        choices=[("", "I'd rather not say yet"), *checkins.PGIC.items()],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Anything else you want to tell the clinic?",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photo = forms.FileField(
        label="A photo of the treated skin (optional)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, question in checkins.WARNING_SIGNS.items():
            self.fields[f"warn_{code}"] = forms.ChoiceField(
                label=question,
                choices=[("no", "No"), ("yes", "Yes")],
                widget=forms.RadioSelect,
            )

    def warning_fields(self):
        return [self[f"warn_{code}"] for code in checkins.WARNING_SIGNS]

    def warnings(self) -> list[str]:
        return [c for c in checkins.WARNING_SIGNS if self.cleaned_data.get(f"warn_{c}") == "yes"]


def _session(request, pk: int) -> TreatmentSession:
    session = (
        request.patient.sessions.filter(pk=pk, status=TreatmentSession.Status.FINAL)
        .select_related("patient__clinic", "practitioner")
        .first()
    )
    if session is None:
        raise Http404("no such session")
    return session


@patient_required
def aftercare_list(request):
    sessions = request.patient.sessions.filter(status=TreatmentSession.Status.FINAL).order_by(
        "-performed_at"
    )[:10]
    rows = [
        {"session": s, "day": checkins.day_of(s), "check_in": checkins.check_ins_open(s)}
        for s in sessions
    ]
    return render(
        request, "clinic/portal/aftercare_list.html", {"patient": request.patient, "rows": rows}
    )


@patient_required
def aftercare(request, pk: int):
    session = _session(request, pk)
    try:
        content = aftercare_for(patient_actor(request), session, clock.today())
    except ServiceError:
        content = {"withheld": True}
    return render(
        request,
        "clinic/portal/aftercare.html",
        {
            **content,
            "patient": request.patient,
            "session": session,
            "day": checkins.day_of(session),
            "check_in_open": checkins.check_ins_open(session),
            "prompt": checkins.is_prompt_day(session),
            "check_ins": session.check_ins.all(),
        },
    )


@patient_required
def check_in(request, pk: int):
    session = _session(request, pk)
    if not checkins.check_ins_open(session):
        return redirect("portal-aftercare", pk=session.pk)
    posted = request.method == "POST"
    form = CheckInForm(request.POST if posted else None, request.FILES if posted else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                made = checkins.record_check_in(
                    patient_actor(request),
                    session,
                    looks=form.cleaned_data["looks"],
                    feels=form.cleaned_data["feels"],
                    warnings=form.warnings(),
                    improvement=form.cleaned_data["improvement"],
                    note=form.cleaned_data["note"],
                    photo=form.cleaned_data.get("photo"),
                )
            except ServiceError as err:
                show(form, err)
            else:
                return render(
                    request,
                    "clinic/portal/checked_in.html",
                    {
                        "patient": request.patient,
                        "check_in": made,
                        "warnings": [checkins.WARNING_SIGNS[w] for w in made.warnings],
                        "out_of_hours": out_of_hours(request.patient.clinic),
                        "session": session,
                    },
                )
    return render(
        request,
        "clinic/portal/check_in.html",
        {
            "patient": request.patient,
            "session": session,
            "form": form,
            "day": checkins.day_of(session),
        },
        status=status,
    )


@staff_required(CLINICAL)
@require_POST
def acknowledge(request, pk: int):
    check_in = get_object_or_404(
        CheckIn.objects.select_related("patient"), pk=pk, patient__clinic=request.staff.clinic
    )
    try:
        checkins.acknowledge(actor_of(request), check_in)
    except ServiceError as err:
        messages.error(request, sentence(err.message))
    else:
        messages.success(request, "Alert acknowledged.")
    return redirect("dashboard")


urlpatterns = [
    path("my/aftercare/", aftercare_list, name="portal-aftercare-list"),
    path("my/aftercare/<int:pk>/", aftercare, name="portal-aftercare"),
    path("my/aftercare/<int:pk>/check-in/", check_in, name="portal-check-in"),
    path("check-ins/<int:pk>/acknowledge/", acknowledge, name="check-in-acknowledge"),
]
