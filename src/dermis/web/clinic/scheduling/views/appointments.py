"""Appointments (simple booking; series booking and slot finding come with scheduling)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme

from dermis.web.clinic.access import ANY_STAFF, actor_of, clinic_patient, staff_required
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import show
from dermis.web.clinic.patients.forms import AppointmentForm, overlap_message
from dermis.web.clinic.scheduling import selectors, services


@staff_required(ANY_STAFF)
def appointment_create(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    clinic = request.staff.clinic
    initial = {"practitioner": request.staff.pk} if request.staff.is_clinical else {}
    # From an empty slot of the diary: the practitioner, the time and the location filled in.
    for name in ("practitioner", "start", "location"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    form = AppointmentForm(request.POST or None, clinic=clinic, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            appointment = services.book_appointment(
                actor_of(request),
                patient,
                practitioner=d["practitioner"],
                start=d["start"],
                end=d["end"],
                kind=d["kind"],
                location=d["location"],
                modality=d["modality"],
                notes=d["notes"],
                precare_done=d["precare_done"],
                override_reason=d["override_reason"],
            )
        except ServiceError as err:
            if err.code == "slot-taken":
                clash = selectors.clash(d["practitioner"], d["start"], d["end"])
                form.add_error("start", overlap_message(d["practitioner"], clash))
            else:
                show(form, err, aliases={"end": "duration_minutes"})
        else:
            messages.success(request, "Appointment booked.")
            if appointment.safety_flag:
                messages.warning(request, f"Provisional: {appointment.safety_flag}")
            back = request.GET.get("next", "")
            if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
                return redirect(back)
            return redirect("patient-detail", patient_id=patient.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "patient": patient}
    return render(request, "clinic/patients/appointment_form.html", context, status=status)


urlpatterns = [
    path(
        "patients/<int:patient_id>/appointments/new/",
        appointment_create,
        name="appointment-create",
    ),
]
