"""A demo clinic's places, rooms, devices and working hours, and a diary that never double-books.

Each practitioner has a room and their own devices, so keeping each practitioner's diary free of
overlaps also keeps rooms and devices free (the database refuses any overlap).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from dermis.web.clinic.demo.world import ClinicSpec
from dermis.web.clinic.models import (
    Appointment,
    Clinic,
    Equipment,
    Location,
    Patient,
    Room,
    StaffMember,
    WorkingHours,
)

DEVICES = (("microneedling", "automated_pen", "Pen"), ("microdermabrasion", "diamond_tip", "Tip"))
OPENS, CLOSES = time(9), time(18)


def aware(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


class Premises:
    def __init__(self, clinic: Clinic, practitioners: list[StaffMember], rng: random.Random):
        self.clinic, self.practitioners, self.rng = clinic, practitioners, rng
        self.next_free: dict[tuple[int, date], datetime] = {}
        self.rooms: dict[int, Room] = {}
        self.devices: dict[tuple[int, str], Equipment] = {}

    def furnish(self, spec: ClinicSpec) -> None:
        """Locations; a room, a pen and a diamond-tip machine per practitioner; working hours."""
        locations = [
            Location.objects.create(
                clinic=self.clinic, name=name, address=address, town=spec.town, postcode=postcode
            )
            for name, address, postcode in spec.locations
        ]
        for i, member in enumerate(self.practitioners):
            where = locations[i % len(locations)]
            member.locations.set(locations if i == 0 else [where])
            self.rooms[member.pk] = Room.objects.create(
                clinic=self.clinic, location=where, name=f"Treatment room {i + 1}"
            )
            for modality, device, label in DEVICES:
                self.devices[(member.pk, modality)] = Equipment.objects.create(
                    clinic=self.clinic,
                    name=f"{label} {i + 1}",
                    device=device,
                    serial_number=f"SN-{self.rng.randint(100000, 999999)}",
                )
            # Open every day, so whatever day the demo starts on has a working diary.
            WorkingHours.objects.bulk_create(
                WorkingHours(staff=member, location=where, weekday=d, start=OPENS, end=CLOSES)
                for d in range(7)
            )

    def _slot(self, member: StaffMember, day: date, minutes: int) -> tuple[datetime, datetime]:
        """The practitioner's next free time on `day` (or the next day when it is full)."""
        start = self.next_free.get((member.pk, day)) or aware(
            day, time(9, self.rng.choice((0, 30)))
        )
        end = start + timedelta(minutes=minutes)
        if end > aware(day, CLOSES):
            return self._slot(member, day + timedelta(days=1), minutes)
        self.next_free[(member.pk, day)] = end + timedelta(minutes=self.rng.choice((15, 30, 45)))
        return start, end

    def book(
        self,
        patient: Patient,
        member: StaffMember,
        day: date,
        kind: str,
        minutes: int = 30,
        done: bool = False,
        modality: str = "",
        **extra,
    ) -> Appointment:
        start, end = self._slot(member, day, minutes)
        room = self.rooms.get(member.pk)
        return Appointment.objects.create(
            clinic=self.clinic,
            patient=patient,
            practitioner=member,
            kind=kind,
            start=start,
            end=end,
            location=room.location if room else None,
            room=room,
            equipment=self.devices.get((member.pk, modality)),
            status=Appointment.Status.DONE if done else Appointment.Status.BOOKED,
            **extra,
        )

    def ensure_today(self, today: date) -> None:
        """A practitioner with nothing booked today gets two follow-ups (re-runs on later days)."""
        start = aware(today, time.min)
        for member in self.practitioners:
            booked = member.appointments.filter(start__gte=start, start__lt=start + timedelta(1))
            if booked.exists():
                continue
            patients = Patient.objects.filter(plans__consultation__practitioner=member)
            for patient in patients.distinct().order_by("pk")[:2]:
                self.book(patient, member, today, Appointment.Kind.FOLLOW_UP, minutes=20)
