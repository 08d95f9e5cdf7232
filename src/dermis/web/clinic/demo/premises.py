"""A demo clinic's places, rooms, devices and working hours, and its diary.

Rooms, devices and hours are set up by the clinic's admin, and every appointment is booked,
through the scheduling services, each at the moment it happened (`clock.frozen_at`). The diary
only chooses times: each practitioner has a room and their own devices, so keeping each
practitioner's diary free of overlaps also keeps rooms and devices free (and the database would
refuse any overlap anyway).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from dermis.core.slots_calendar import Slot
from dermis.web.clinic import clock
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.demo.world import ClinicSpec
from dermis.web.clinic.models import (
    Appointment,
    Clinic,
    Equipment,
    Patient,
    Room,
    StaffMember,
    TreatmentPlan,
)
from dermis.web.clinic.scheduling import availability, series, setup
from dermis.web.clinic.scheduling import services as scheduling
from dermis.web.clinic.tenancy import services as tenancy

DEVICES = (("microneedling", "automated_pen", "Pen"), ("microdermabrasion", "diamond_tip", "Tip"))
OPENS, CLOSES = time(9), time(18)


def aware(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def acting(member: StaffMember) -> Actor:
    """`member` acting through the demo seeder: their role, their clinic, the demo's audit tag."""
    return Actor.of_staff(member, channel="demo")


class Premises:
    def __init__(
        self,
        clinic: Clinic,
        admin: StaffMember,
        practitioners: list[StaffMember],
        rng: random.Random,
    ):
        self.clinic, self.admin, self.practitioners, self.rng = clinic, admin, practitioners, rng
        self.next_free: dict[tuple[int, date], datetime] = {}
        self.rooms: dict[int, Room] = {}
        self.devices: dict[tuple[int, str], Equipment] = {}

    def furnish(self, spec: ClinicSpec, opened: date) -> None:
        """On the day the clinic opened, by its admin: its locations, where each practitioner
        works, a room, a pen and a diamond-tip machine per practitioner, and their hours."""
        admin = acting(self.admin)
        with clock.frozen_at(aware(opened, time(8))):
            locations = [
                tenancy.add_location(
                    admin, name=name, address=address, town=spec.town, postcode=postcode
                )
                for name, address, postcode in spec.locations
            ]
            for i, member in enumerate(self.practitioners):
                where = locations[i % len(locations)]
                tenancy.update_staff(admin, member, locations=locations if i == 0 else [where])
                self.rooms[member.pk] = setup.add_room(admin, f"Treatment room {i + 1}", where)
                for modality, device, label in DEVICES:
                    self.devices[(member.pk, modality)] = setup.add_equipment(
                        admin, f"{label} {i + 1}", device, f"SN-{self.rng.randint(100000, 999999)}"
                    )
                # Open every day, so whatever day the demo starts on has a working diary.
                setup.set_weekly_hours(admin, member, [(d, OPENS, CLOSES, where) for d in range(7)])

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
        by: StaffMember,
        patient: Patient,
        member: StaffMember,
        day: date,
        kind: str,
        *,
        booked_at: datetime,
        minutes: int = 30,
        plan: TreatmentPlan | None = None,
        notes: str = "",
    ) -> Appointment:
        """One appointment with `member` on `day`, booked by `by` at the moment `booked_at`."""
        start, end = self._slot(member, day, minutes)
        room = self.rooms.get(member.pk)
        with clock.frozen_at(booked_at):
            return scheduling.book_appointment(
                acting(by),
                patient,
                practitioner=member,
                start=start,
                end=end,
                kind=kind,
                location=room.location if room else None,
                room=room,
                plan=plan,
                notes=notes,
            )

    def book_series(
        self,
        member: StaffMember,
        plan: TreatmentPlan,
        days: list[date],
        *,
        booked_at: datetime,
        precare_done: bool = False,
    ) -> list[Appointment]:
        """The plan's sessions still to book, on `days` with `member` in their room and with their
        device, booked at `booked_at` through the series service (its checks and the gate)."""
        room = self.rooms[member.pk]
        with clock.frozen_at(booked_at):
            prefs = series.Preferences(
                practitioner=member,
                location=room.location,
                earliest=days[0],
                precare_done=precare_done,
            )
            wanted = series.setup(plan, prefs, clock.now())
            device = self.devices[(member.pk, wanted.course.modality)]
            chosen = []
            for day in days[: wanted.request.sessions]:
                start, end = self._slot(member, day, wanted.request.duration_minutes)
                chosen.append(
                    Slot(
                        start,
                        end,
                        availability.resource(member),
                        availability.resource(room),
                        availability.resource(device),
                    )
                )
            return series.book(acting(member), wanted, chosen, clock.now())

    def mark(self, by: StaffMember, appointment: Appointment, status: str) -> Appointment:
        """Mark `appointment` (done, not attended) when it ends."""
        with clock.frozen_at(appointment.end):
            return scheduling.set_status(acting(by), appointment, status)

    def ensure_today(self, today: date) -> None:
        """A practitioner with nothing booked today gets two follow-ups (re-runs on later days),
        booked first thing in the morning."""
        start = aware(today, time.min)
        for member in self.practitioners:
            booked = member.appointments.filter(start__gte=start, start__lt=start + timedelta(1))
            if booked.exists():
                continue
            patients = Patient.objects.filter(plans__consultation__practitioner=member)
            for patient in patients.distinct().order_by("pk")[:2]:
                self.book(
                    member,
                    patient,
                    member,
                    today,
                    Appointment.Kind.FOLLOW_UP,
                    booked_at=aware(today, time(8, 30)),
                    minutes=20,
                )
