"""Reading the waitlist: a clinic's entries, and who a freed slot should be offered to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from dermis.web.clinic.models import Appointment, Clinic, WaitlistEntry, WaitlistOffer


def entries(clinic: Clinic, *, status: str = WaitlistEntry.Status.WAITING) -> QuerySet:
    return WaitlistEntry.objects.filter(clinic=clinic, status=status).select_related(
        "patient", "practitioner", "location"
    )


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
