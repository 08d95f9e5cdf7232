"""An appointment's status from the web: check in, start, complete, no-show, and cancelling with
an "are you sure?" and a reason. The lifecycle service decides (scheduling/lifecycle.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dermis.web.clinic.access import ANY_STAFF, actor_of, clinic_object, staff_required
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence, show
from dermis.web.clinic.models import Appointment
from dermis.web.clinic.scheduling import lifecycle, services


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is it cancelled?",
        max_length=200,
        required=False,  # the service asks for it, in the same words as the API
        help_text="For example: the patient asked, unwell, the clinic had to close.",
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Appointment.Status.choices)


def _back(request, appointment: Appointment) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("patient-detail", kwargs={"patient_id": appointment.patient_id})
    return target


def _raise_refusal(err: ServiceError) -> None:
    if err.status == 403:
        raise PermissionDenied(sentence(err.message))
    if err.status == 404:
        raise Http404("not found")


def _when(appointment: Appointment) -> str:
    return f"{timezone.localtime(appointment.start):%a %d %b %Y %H:%M}"


@staff_required(ANY_STAFF)
def appointment_cancel(request, pk: int):
    """GET: are you sure, and why? POST: cancel with that reason."""
    appointment = clinic_object(request, Appointment, pk)
    form = CancelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.cancel_appointment(
                    actor_of(request), appointment, form.cleaned_data["reason"]
                )
            except ServiceError as err:
                _raise_refusal(err)
                show(form, err)
                status = err.status
            else:
                late = " It was a late cancellation." if appointment.late_cancel else ""
                messages.success(
                    request,
                    f"Appointment on {_when(appointment)} cancelled; its pending reminders will "
                    f"not be sent.{late}",
                )
                return redirect(_back(request, appointment))
        status = status if status != 200 else 400
    context = {
        "appointment": appointment,
        "patient": appointment.patient,
        "form": form,
        "next": _back(request, appointment),
        "late": lifecycle.inside_notice(appointment, timezone.now()),
        "cancellable": appointment.is_open,
    }
    return render(request, "clinic/diary/cancel.html", context, status=status)


@staff_required(ANY_STAFF)
@require_POST
def appointment_status(request, pk: int):
    """One lifecycle step (a button on the diary or the patient's record)."""
    appointment = clinic_object(request, Appointment, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing changed: choose a status.")
        return redirect(_back(request, appointment))
    try:
        services.set_status(actor_of(request), appointment, form.cleaned_data["status"])
    except ServiceError as err:
        _raise_refusal(err)
        show(form, err)
        context = {"appointment": appointment, "form": form, "next": _back(request, appointment)}
        return render(request, "clinic/diary/status_refused.html", context, status=err.status)
    messages.success(
        request,
        f"{appointment.patient.full_name}'s appointment on {_when(appointment)} is now "
        f"{appointment.get_status_display().lower()}.",
    )
    return redirect(_back(request, appointment))


urlpatterns = [
    path("appointments/<int:pk>/cancel/", appointment_cancel, name="appointment-cancel"),
    path("appointments/<int:pk>/status/", appointment_status, name="appointment-status"),
]
