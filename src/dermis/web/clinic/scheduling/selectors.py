"""Reads for scheduling pages and the API."""

from __future__ import annotations

from datetime import datetime

from dermis.web.clinic.models import Appointment, StaffMember, overlapping


def clash(practitioner: StaffMember, start: datetime, end: datetime) -> Appointment | None:
    """The practitioner's first appointment overlapping [start, end), if any (not cancelled)."""
    return (
        Appointment.objects.filter(overlapping(start, end), practitioner=practitioner)
        .exclude(status=Appointment.Status.CANCELLED)
        .order_by("start")
        .first()
    )
