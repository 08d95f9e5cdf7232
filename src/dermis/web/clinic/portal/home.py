"""What the patient's home page shows: their upcoming appointments and what needs doing."""

from __future__ import annotations

from dermis.web.clinic import clock
from dermis.web.clinic.models import Appointment, Patient


def upcoming(patient: Patient):
    return (
        patient.appointments.filter(start__gte=clock.now())
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("practitioner", "location")
        .order_by("start")
    )


def context(patient: Patient) -> dict:
    return {
        "patient": patient,
        "clinic": patient.clinic,
        "appointments": list(upcoming(patient)),
        "intake_waiting": not patient.portal_intakes.exists(),
    }
