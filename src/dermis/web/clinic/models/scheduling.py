"""Rooms, equipment, working hours, time off, appointments and calendar feeds."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.labels import QuickLabels
from dermis.web.clinic.models.loading import FastLoad


class Room(FastLoad, models.Model):
    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="rooms")
    location = models.ForeignKey("clinic.Location", on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["location", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.location.name})"


class Equipment(FastLoad, models.Model):
    """One physical device (a pen, a diamond-tip machine): in one place at a time."""

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="equipment")
    name = models.CharField(max_length=100)
    device = models.CharField(max_length=40, help_text="knowledge-base device id")
    serial_number = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["clinic", "name"]

    def __str__(self) -> str:
        return self.name


class WorkingHours(FastLoad, models.Model):
    staff = models.ForeignKey(
        "clinic.StaffMember", on_delete=models.CASCADE, related_name="working_hours"
    )
    location = models.ForeignKey(
        "clinic.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday ... 6 = Sunday")
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["staff", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="hours_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="hours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} day {self.weekday} {self.start}-{self.end}"


class TimeOff(FastLoad, models.Model):
    staff = models.ForeignKey(
        "clinic.StaffMember", on_delete=models.CASCADE, related_name="time_off"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="timeoff_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} off {self.start:%Y-%m-%d}"


class Appointment(FastLoad, QuickLabels, models.Model):
    class Kind(models.TextChoices):
        CONSULTATION = "consultation", "Consultation"
        TREATMENT = "treatment", "Treatment session"
        FOLLOW_UP = "follow_up", "Follow-up"
        MAINTENANCE = "maintenance", "Maintenance"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        ARRIVED = "arrived", "Arrived"
        IN_TREATMENT = "in_treatment", "In treatment"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "Did not attend"

    clinic = models.ForeignKey(
        "clinic.Clinic", on_delete=models.PROTECT, related_name="appointments"
    )
    location = models.ForeignKey(
        "clinic.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    # No index of its own: the (practitioner, start) index below serves every lookup by
    # practitioner, and with both the planner read a practitioner's whole history through this
    # one to find a few months of it (4.5 ms for a series proposal's busy times, 2 ms through
    # the pair).
    practitioner = models.ForeignKey(
        "clinic.StaffMember",
        on_delete=models.PROTECT,
        related_name="appointments",
        db_index=False,
    )
    plan = models.ForeignKey(
        "clinic.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
    )
    room = models.ForeignKey(
        "clinic.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    equipment = models.ForeignKey(
        "clinic.Equipment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    modality = models.CharField(
        max_length=20, blank=True, help_text="for a treatment: the modality booked"
    )
    provisional = models.BooleanField(
        default=False, help_text="a treatment booked before any plan was accepted"
    )
    precare_confirmed = models.BooleanField(
        default=False, help_text="the practitioner recorded that pre-care was done in time"
    )
    safety_flag = models.CharField(
        max_length=300,
        blank=True,
        help_text="why a later plan or screening made this booking unsafe (to review)",
    )
    series_key = models.UUIDField(null=True, blank=True, db_index=True, help_text="booked together")
    series_index = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1, 2, ...")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.TREATMENT)
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    late_cancel = models.BooleanField(
        default=False, help_text="cancelled inside the clinic's notice period"
    )
    notes = models.CharField(max_length=300, blank=True, help_text="front-desk note, not clinical")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["practitioner", "start"]),
            models.Index(fields=["clinic", "start"]),
            # The recall worklist's overdue follow-ups: those still booked or missed, in order.
            models.Index(
                fields=["clinic", "start"],
                condition=models.Q(kind="follow_up", status__in=["booked", "confirmed", "no_show"]),
                name="appointment_follow_up_open",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appt_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.pk} ({self.start:%Y-%m-%d %H:%M})"

    @property
    def is_open(self) -> bool:
        """Still to happen: booked or confirmed."""
        return self.status in OPEN_STATUSES


class AppointmentTally(FastLoad, models.Model):
    """How many appointments a clinic has in each status, kept by the database itself: triggers
    on `clinic_appointment` (migration 0025) add and take away as rows are inserted, deleted or
    change clinic or status, in the same transaction, whatever wrote them (a service, a bulk
    load, a cascade). The API's appointment list reads its count here instead of counting the
    clinic's whole history on every page. Nothing in Python writes it."""

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "status"], name="appointment_tally_unique")
        ]

    def __str__(self) -> str:
        return f"{self.n} {self.status} appointments of clinic {self.clinic_id}"


class ScheduleVersion(FastLoad, models.Model):
    """A number the database adds one to whenever anything changes in a clinic that its diary, a
    calendar feed or its availability page shows: an appointment, a patient's name, a member of
    staff or the locations they work at, working hours, time off, a closed day, a location, a
    room, a device, the clinic itself.
    Triggers (migration 0029) keep it in the writing transaction, whatever wrote the rows (a
    service, a bulk load, a cascade, the admin site), so a page drawn for one number may be kept
    and shown again while the number stands. Nothing in Python writes it.

    The clinic is a plain number, not a foreign key: a clinic's rows deleted in a cascade still
    add one, and no order of deletion can leave a row pointing at a deleted clinic."""

    clinic_id = models.BigIntegerField(primary_key=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"schedule version {self.n} of clinic {self.clinic_id}"


# Still to happen (the slot is held and it may move or be cancelled).
OPEN_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)

# No appointment is longer (the booking rules refuse more than 8 hours at every door), so one that
# overlaps a window started at most this long before it: the bound lets the (…, start) indexes
# read only the window instead of every earlier appointment.
LONGEST_APPOINTMENT = timedelta(days=1)


def overlapping(start: datetime, end: datetime, earliest: datetime | None = None) -> models.Q:
    """Appointments that overlap [start, end). `earliest` is `start - LONGEST_APPOINTMENT`, given
    by a query composed once (clinic/prepared.py), which takes each value as itself."""
    if earliest is None:
        earliest = start - LONGEST_APPOINTMENT
    return models.Q(start__lt=end, end__gt=start, start__gt=earliest)


# The patient came.
ATTENDED_STATUSES = (
    Appointment.Status.ARRIVED,
    Appointment.Status.IN_TREATMENT,
    Appointment.Status.COMPLETED,
)


class ClosureDay(FastLoad, models.Model):
    """A day the clinic (or one of its locations) is closed: nothing may be booked on it."""

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="closures")
    location = models.ForeignKey(
        "clinic.Location",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="closures",
        help_text="empty: every location",
    )
    day = models.DateField()
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["day"]
        indexes = [models.Index(fields=["clinic", "day"])]

    def __str__(self) -> str:
        return f"Closed {self.day:%Y-%m-%d}"


class CalendarFeed(FastLoad, models.Model):
    """A secret, revocable URL for a practitioner's or a patient's iCalendar feed.

    Only a hash of the token is stored; the URL is shown once when the feed is created.
    """

    token_sha256 = models.CharField(max_length=64, unique=True)
    staff = models.ForeignKey(
        "clinic.StaffMember", null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    patient = models.ForeignKey(
        "clinic.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # What the feed said when last fetched (a hash of its events) and since when: the feed's
    # ETag and Last-Modified, so a calendar app that asks again gets a 304 when nothing changed.
    # Nullable: SQLite adds such a column in place instead of rebuilding the table.
    content_sha256 = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    content_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(staff__isnull=False, patient__isnull=True)
                | models.Q(staff__isnull=True, patient__isnull=False),
                name="feed_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"Feed {self.pk}"
