"""Reads for scheduling pages and the API."""

from __future__ import annotations

from datetime import datetime

from dermis.web.clinic.models import (
    Appointment,
    AppointmentTally,
    Clinic,
    StaffMember,
    overlapping,
)
from dermis.web.clinic.prepared import PreparedValues
from dermis.web.clinic.together import Read


def clash(practitioner: StaffMember, start: datetime, end: datetime) -> Appointment | None:
    """The practitioner's first appointment overlapping [start, end), if any (not cancelled)."""
    return (
        Appointment.objects.filter(overlapping(start, end), practitioner=practitioner)
        .exclude(status=Appointment.Status.CANCELLED)
        .order_by("start")
        .first()
    )


# The tally's rows (one a status), composed once per process (clinic/prepared.py).
TALLY = PreparedValues(
    AppointmentTally,
    lambda clinic: AppointmentTally.objects.filter(clinic_id=clinic).values_list("n", flat=True),
    flat=True,
    clinic=int,
)
TALLY_OF = PreparedValues(
    AppointmentTally,
    lambda clinic, status: AppointmentTally.objects.filter(
        clinic_id=clinic, status=status
    ).values_list("n", flat=True),
    flat=True,
    clinic=int,
    status=str,
)


def appointment_count_read(clinic: Clinic, status: str | None = None) -> Read | None:
    """The read `appointment_count(clinic, status)` makes (`read_together`)."""
    if status is None:
        return TALLY.ahead(clinic=clinic.pk)
    return TALLY_OF.ahead(clinic=clinic.pk, status=status)


def appointment_count(clinic: Clinic, status: str | None = None) -> int:
    """How many appointments the clinic has (in `status`, if given), from the tally the database
    keeps (`AppointmentTally`): one indexed read however long the clinic's history."""
    if status is None:
        return sum(TALLY.rows(clinic=clinic.pk))
    return sum(TALLY_OF.rows(clinic=clinic.pk, status=status))
