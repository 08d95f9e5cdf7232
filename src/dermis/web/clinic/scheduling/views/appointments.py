"""Appointments (simple booking; series booking and slot finding come with scheduling)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path

from dermis.web.clinic.access import ANY_STAFF, audit, clinic_patient, staff_required
from dermis.web.clinic.patients.forms import AppointmentForm, overlap_message
from dermis.web.clinic.scheduling.booking import Booking, SlotTaken, book


@staff_required(ANY_STAFF)
def appointment_create(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    clinic = request.staff.clinic
    initial = {"practitioner": request.staff.pk} if request.staff.is_clinical else {}
    form = AppointmentForm(request.POST or None, clinic=clinic, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            appointment = book(
                patient,
                Booking(d["start"], d["end"], d["practitioner"], location=d["location"]),
                kind=d["kind"],
                notes=d["notes"],
                remind=True,
            )
        except SlotTaken:
            # Someone booked the slot between the form's check and this write.
            form.add_error("start", overlap_message(d["practitioner"]))
        else:
            audit(request, "create", appointment, summary=f"appointment ({appointment.kind})")
            messages.success(request, "Appointment booked.")
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
