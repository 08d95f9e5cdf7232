"""Reads for scheduling pages and the API."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Sum

from dermis.web.clinic.models import (
    Appointment,
    AppointmentTally,
    Clinic,
    StaffMember,
    overlapping,
)


def clash(practitioner: StaffMember, start: datetime, end: datetime) -> Appointment | None:
    """The practitioner's first appointment overlapping [start, end), if any (not cancelled)."""
    return (
        Appointment.objects.filter(overlapping(start, end), practitioner=practitioner)
        .exclude(status=Appointment.Status.CANCELLED)
        .order_by("start")
        .first()
    )


def appointment_count(clinic: Clinic, status: str | None = None) -> int:
    """How many appointments the clinic has (in `status`, if given), from the tally the database
    keeps (`AppointmentTally`): one indexed read however long the clinic's history."""
    rows = AppointmentTally.objects.filter(clinic=clinic)
    if status is not None:
        rows = rows.filter(status=status)
    return rows.aggregate(n=Sum("n"))["n"] or 0
