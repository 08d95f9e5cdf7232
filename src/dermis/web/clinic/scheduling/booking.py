"""Booking writes: one appointment, a series, a move. All-or-nothing; never a double-booking.

The database is the referee (see migrations/0004): on PostgreSQL exclusion constraints, on SQLite
triggers inside serialised write transactions. Whatever a view checked before, a booking that
overlaps another for the same practitioner, room or device fails here with `SlotTaken`.

With `remind=True` the reminders (and, for a booking, the confirmation e-mail) are planned in the
same transaction, so a booking never exists without its reminders nor reminders without a booking;
the reminders module queues their delivery when that transaction commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import DatabaseError, IntegrityError, OperationalError, transaction

from dermis.web.clinic.models import (
    Appointment,
    Equipment,
    Location,
    Patient,
    Room,
    StaffMember,
    TreatmentPlan,
)
from dermis.web.clinic.reminders import services as reminders


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


KEEP = object()  # Move: leave the room or the device as it is
DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE


class Move(NamedTuple):
    """One appointment's new time and, optionally, its new room or device (None: none)."""

    appointment: Appointment
    start: datetime
    end: datetime
    room: object = KEEP
    equipment: object = KEEP


def _remind(appointments: Sequence[Appointment], *, confirm: bool) -> None:
    for appointment in appointments:
        reminders.plan_for_appointment(appointment)
    if confirm:
        reminders.send_booking_confirmation(appointments)


def is_overlap(exc: DatabaseError) -> bool:
    # SQLite's trigger says "slot taken"; PostgreSQL names the exclusion constraint.
    if isinstance(exc, OperationalError):
        # Two transactions inserting overlapping rows at the same moment each find the other's
        # row in PostgreSQL's exclusion check and wait for it: a deadlock, which PostgreSQL
        # breaks by failing one of them. That one lost the race for the slot.
        return getattr(exc.__cause__, "sqlstate", None) == DEADLOCK_DETECTED
    text = str(exc)
    return "slot taken" in text or ("appt_no_" in text and "_overlap" in text)


def book(
    patient: Patient,
    booking: Booking,
    *,
    kind: str = Appointment.Kind.TREATMENT,
    plan: TreatmentPlan | None = None,
    notes: str = "",
    remind: bool = False,
    fields: dict | None = None,
) -> Appointment:
    """Book one appointment, or raise SlotTaken and write nothing."""
    return book_series(
        patient, [booking], kind=kind, plan=plan, notes=notes, remind=remind, fields=fields
    )[0]


def book_series(
    patient: Patient,
    bookings: Sequence[Booking],
    *,
    kind: str = Appointment.Kind.TREATMENT,
    plan: TreatmentPlan | None = None,
    notes: str = "",
    remind: bool = False,
    fields: dict | None = None,
) -> list[Appointment]:
    """Book every session of a series in one transaction: all of them, or none (SlotTaken).

    `remind`: also plan each appointment's reminders and one confirmation, in that transaction.
    `fields`: more Appointment fields for every session (modality, provisional...)."""
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
                            **(fields or {}),
                        )
                    )
            except (IntegrityError, OperationalError) as exc:
                if is_overlap(exc):
                    # Leaving the outer block rolls back the sessions already made.
                    raise SlotTaken(i if series_key else None) from None
                raise
        if remind:
            _remind(made, confirm=True)
    return made


def move(
    appointment: Appointment, start: datetime, end: datetime, *, remind: bool = False
) -> Appointment:
    """Move an appointment to a new time, or raise SlotTaken and leave it where it was.

    `remind`: re-time its pending reminders in the same transaction."""
    try:
        with transaction.atomic():
            Appointment.objects.filter(pk=appointment.pk).update(start=start, end=end)
            appointment.refresh_from_db()
            if remind:
                _remind([appointment], confirm=False)
    except (IntegrityError, OperationalError) as exc:
        if is_overlap(exc):
            appointment.refresh_from_db()
            raise SlotTaken() from None
        raise
    return appointment


def move_series(
    moves: Sequence[Move | tuple[Appointment, datetime, datetime]], *, remind: bool = False
) -> None:
    """Move several appointments of a series together: all of them, or none (SlotTaken).

    Moved one at a time inside one transaction: when the series moves later, the last session
    moves first (and the first first when it moves earlier), so a session never collides with
    its own series' old times. A `Move` may also change the room or the device. `remind`:
    re-time the moved appointments' pending reminders in the same transaction.
    """
    normal = [Move(*m) for m in moves]
    later = bool(normal) and normal[0].start > normal[0].appointment.start
    ordered = sorted(normal, key=lambda m: m.appointment.start, reverse=later)
    try:
        with transaction.atomic():
            for m in ordered:
                fields: dict = {"start": m.start, "end": m.end}
                if m.room is not KEEP:
                    fields["room"] = m.room
                if m.equipment is not KEEP:
                    fields["equipment"] = m.equipment
                Appointment.objects.filter(pk=m.appointment.pk).update(**fields)
            if remind:
                moved = list(Appointment.objects.filter(pk__in=[m.appointment.pk for m in normal]))
                _remind(moved, confirm=False)
    except (IntegrityError, OperationalError) as exc:
        if is_overlap(exc):
            raise SlotTaken() from None
        raise


def cancel(appointment: Appointment) -> bool:
    """Cancel a booked appointment and its pending reminders together; False if not booked."""
    with transaction.atomic():
        changed = Appointment.objects.filter(
            pk=appointment.pk, status=Appointment.Status.BOOKED
        ).update(status=Appointment.Status.CANCELLED)
        if changed:
            reminders.cancel_for_appointment(appointment)
    appointment.refresh_from_db()
    return bool(changed)
