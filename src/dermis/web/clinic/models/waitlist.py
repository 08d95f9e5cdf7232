"""The waitlist: patients waiting for an earlier slot, and the offers a freed slot makes them."""

from __future__ import annotations

from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad


class WaitlistEntry(FastLoad, models.Model):
    """A patient (or a plan's next session) waiting for a slot that fits these wishes.

    Empty wishes match anything: no practitioner means any practitioner, no weekdays any day.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked from an offer"
        REMOVED = "removed", "Removed"

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    plan = models.ForeignKey(
        "clinic.TreatmentPlan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, default="treatment")
    modality = models.CharField(max_length=20, blank=True)
    practitioner = models.ForeignKey(
        "clinic.StaffMember", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    location = models.ForeignKey(
        "clinic.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    weekdays = models.CharField(
        max_length=20, blank=True, help_text="comma-separated, 0 = Monday; empty: any day"
    )
    earliest = models.TimeField(null=True, blank=True, help_text="not starting before")
    latest = models.TimeField(null=True, blank=True, help_text="finished by")
    before = models.DateField(null=True, blank=True, help_text="only slots before this day")
    minutes = models.PositiveSmallIntegerField(default=60)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    appointment = models.ForeignKey(
        "clinic.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["clinic", "status", "created_at"], name="waitlist_queue")]

    def __str__(self) -> str:
        return f"Waitlist entry {self.pk} ({self.status})"

    @property
    def weekday_numbers(self) -> list[int]:
        return [int(d) for d in self.weekdays.split(",") if d.strip()]


class WaitlistOffer(FastLoad, models.Model):
    """One freed slot offered to one waiting patient; the first to accept gets it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        GONE = "gone", "Taken by someone else"
        EXPIRED = "expired", "Lapsed"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    slot = models.CharField(max_length=80, help_text="the freed slot; its offers share it")
    practitioner = models.ForeignKey(
        "clinic.StaffMember", on_delete=models.CASCADE, related_name="+"
    )
    location = models.ForeignKey(
        "clinic.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    room = models.ForeignKey(
        "clinic.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    equipment = models.ForeignKey(
        "clinic.Equipment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=clock.now)
    appointment = models.ForeignKey(
        "clinic.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "expires_at"], name="waitlist_offer_open")]
        constraints = [
            models.UniqueConstraint(fields=["entry", "slot"], name="one_offer_per_entry_and_slot")
        ]

    def __str__(self) -> str:
        return f"Waitlist offer {self.pk} ({self.status})"


class AppointmentReply(FastLoad, models.Model):
    """What a patient answered through the link in a reminder: confirmed, or asked to cancel."""

    class Answer(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        CANCEL_REQUESTED = "cancel", "Asked to cancel"

    appointment = models.ForeignKey(
        "clinic.Appointment", on_delete=models.CASCADE, related_name="replies"
    )
    answer = models.CharField(max_length=10, choices=Answer.choices)
    at = models.DateTimeField(default=clock.now)
    handled = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["answer", "handled", "-at"], name="reply_open")]

    def __str__(self) -> str:
        return f"Reply {self.pk} {self.answer}"
