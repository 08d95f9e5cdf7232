"""Reads for scheduling pages and the API."""

from __future__ import annotations

from datetime import datetime

from dermis.web.clinic.models import Appointment, StaffMember


def clash(practitioner: StaffMember, start: datetime, end: datetime) -> Appointment | None:
    """The practitioner's first appointment overlapping [start, end), if any (not cancelled)."""
    return (
        Appointment.objects.filter(practitioner=practitioner, start__lt=end, end__gt=start)
        .exclude(status=Appointment.Status.CANCELLED)
        .order_by("start")
        .first()
    )
