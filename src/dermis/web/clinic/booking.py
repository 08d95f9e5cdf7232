"""Booking writes: one appointment, a series, a move. All-or-nothing; never a double-booking.

The database is the referee (see migrations/0004): on PostgreSQL exclusion constraints, on SQLite
triggers inside serialised write transactions. Whatever a view checked before, a booking that
overlaps another for the same practitioner, room or device fails here with `SlotTaken`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from dermis.web.clinic.models import (
    Appointment,
    Equipment,
    Location,
    Patient,
    Room,
    StaffMember,
    TreatmentPlan,
)


class SlotTaken(Exception):
    """The time is no longer free for the practitioner, the room or the device."""

    def __init__(self, index: int | None = None) -> None:
        self.index = index
        where = f"session {index}: " if index is not None else ""
        super().__init__(
            f"{where}slot taken: the practitioner, room or device is already booked at that time"
        )


@dataclass(frozen=True)
class Booking:
    """What to book: one appointment's time and resources."""

    start: datetime
    end: datetime
    practitioner: StaffMember
    room: Room | None = None
    equipment: Equipment | None = None
    location: Location | None = None


def _is_overlap(exc: IntegrityError) -> bool:
    # SQLite's trigger says "slot taken"; PostgreSQL names the exclusion constraint.
    text = str(exc)
    return "slot taken" in text or ("appt_no_" in text and "_overlap" in text)


def book(
    patient: Patient,
    booking: Booking,
    *,
    kind: str = Appointment.Kind.TREATMENT,
    plan: TreatmentPlan | None = None,
    notes: str = "",
) -> Appointment:
    """Book one appointment, or raise SlotTaken and write nothing."""
    return book_series(patient, [booking], kind=kind, plan=plan, notes=notes)[0]


def book_series(
    patient: Patient,
    bookings: Sequence[Booking],
    *,
    kind: str = Appointment.Kind.TREATMENT,
    plan: TreatmentPlan | None = None,
    notes: str = "",
) -> list[Appointment]:
    """Book every session of a series in one transaction: all of them, or none (SlotTaken)."""
    series_key = uuid.uuid4() if len(bookings) > 1 else None
    made: list[Appointment] = []
    with transaction.atomic():
        for i, b in enumerate(bookings, start=1):
            try:
                with transaction.atomic():
                    made.append(
                        Appointment.objects.create(
                            clinic=patient.clinic,
                            location=b.location or (b.room.location if b.room else None),
                            patient=patient,
                            practitioner=b.practitioner,
                            room=b.room,
                            equipment=b.equipment,
                            plan=plan,
                            kind=kind,
                            start=b.start,
                            end=b.end,
                            notes=notes,
                            series_key=series_key,
                            series_index=i if series_key else None,
                        )
                    )
            except IntegrityError as exc:
                if _is_overlap(exc):
                    # Leaving the outer block rolls back the sessions already made.
                    raise SlotTaken(i if series_key else None) from None
                raise
    return made


def move(appointment: Appointment, start: datetime, end: datetime) -> Appointment:
    """Move an appointment to a new time, or raise SlotTaken and leave it where it was."""
    try:
        with transaction.atomic():
            Appointment.objects.filter(pk=appointment.pk).update(start=start, end=end)
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise SlotTaken() from None
        raise
    appointment.refresh_from_db()
    return appointment


def move_series(moves: Sequence[tuple[Appointment, datetime, datetime]]) -> None:
    """Move several appointments of a series together: all of them, or none (SlotTaken).

    Moved one at a time inside one transaction: when the series moves later, the last session
    moves first (and the first first when it moves earlier), so a session never collides with
    its own series' old times.
    """
    later = bool(moves) and moves[0][1] > moves[0][0].start
    ordered = sorted(moves, key=lambda m: m[0].start, reverse=later)
    try:
        with transaction.atomic():
            for appointment, start, end in ordered:
                Appointment.objects.filter(pk=appointment.pk).update(start=start, end=end)
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise SlotTaken() from None
        raise
