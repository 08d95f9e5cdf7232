"""Reading the waitlist: a clinic's entries, and who a freed slot should be offered to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from dermis.web.clinic.models import Appointment, Clinic, WaitlistEntry, WaitlistOffer
from dermis.web.clinic.prepared import PreparedRows


def entries(clinic: Clinic, *, status: str = WaitlistEntry.Status.WAITING) -> QuerySet:
    return WaitlistEntry.objects.filter(clinic=clinic, status=status).select_related(
        "patient", "practitioner", "location"
    )


# The waitlist page's entries, composed once per process (clinic/prepared.py).
ENTRIES = PreparedRows(
    WaitlistEntry,
    lambda clinic, status: WaitlistEntry.objects.filter(
        clinic_id=clinic, status=status
    ).select_related("patient", "practitioner", "location"),
    clinic=int,
    status=str,
)


def listed(clinic: Clinic, *, status: str = WaitlistEntry.Status.WAITING) -> list[WaitlistEntry]:
    """`entries` as the waitlist page lists them, each with its offers."""
    rows = ENTRIES.rows(None, clinic=clinic.pk, status=str(status), known={"clinic": clinic})
    prefetch_related_objects(rows, "offers")
    return rows


def open_offers(entry: WaitlistEntry) -> QuerySet:
    return entry.offers.filter(status=WaitlistOffer.Status.OPEN)


def fits(entry: WaitlistEntry, appointment: Appointment) -> bool:
    """Whether the freed slot meets the entry's wishes for day, time and length."""
    start, end = timezone.localtime(appointment.start), timezone.localtime(appointment.end)
    if entry.weekday_numbers and start.weekday() not in entry.weekday_numbers:
        return False
    if entry.earliest and start.time() < entry.earliest:
        return False
    if (end - start).total_seconds() < entry.minutes * 60:
        return False
    finish = start + timedelta(minutes=entry.minutes)
    return not (entry.latest and finish.time() > entry.latest)


def candidates(appointment: Appointment) -> Iterator[WaitlistEntry]:
    """Waiting entries the freed slot fits, first come first served."""
    day = timezone.localtime(appointment.start).date()
    where = Q(practitioner__isnull=True) | Q(practitioner=appointment.practitioner_id)
    place = Q(location__isnull=True)
    if appointment.location_id:
        place |= Q(location=appointment.location_id)
    qs = (
        entries(appointment.clinic)
        .filter(where, place)
        .filter(Q(before__isnull=True) | Q(before__gt=day))
        .exclude(patient=appointment.patient_id)
        .order_by("created_at", "pk")
    )
    return (entry for entry in qs.iterator(chunk_size=100) if fits(entry, appointment))
