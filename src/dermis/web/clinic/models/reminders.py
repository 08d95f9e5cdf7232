"""The reminders outbox."""

from __future__ import annotations

from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad


class Reminder(FastLoad, models.Model):
    """One message to send: an outbox row, so a reminder is neither lost nor sent twice.

    `key` is unique per appointment/patient, kind and channel: planning reminders twice cannot
    create two rows. The worker claims a row, sends, and marks it sent (see reminders.py).
    """

    class Kind(models.TextChoices):
        APPOINTMENT = "appointment", "Appointment reminder"
        PRECARE = "precare", "Pre-care instructions"
        AFTERCARE_DAY1 = "aftercare_day1", "Aftercare check-in, day 1"
        AFTERCARE_DAY3 = "aftercare_day3", "Aftercare check-in, day 3"
        AFTERCARE_DAY = "aftercare_day", "Aftercare check-in, a day the clinic chose"
        RECALL = "recall", "Maintenance recall"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist: a slot offered"
        WAITLIST_GONE = "waitlist_gone", "Waitlist: the slot has gone"
        PORTAL_LINK = "portal_link", "Portal sign-in link"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        OPTED_OUT = "opted_out", "Not sent: patient opted out"

    key = models.CharField(max_length=120, unique=True)
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="reminders"
    )
    appointment = models.ForeignKey(
        "clinic.Appointment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    # The worker's queue: when a pending row may next be tried (its due time, or later after a
    # failed attempt), or when a claimed ("sending") row's lease runs out. Null: not queued.
    next_try_at = models.DateTimeField(null=True, blank=True)
    # Which worker round holds the claim; its result is recorded only under the same token.
    claim_token = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001 - null: no ALTER TABLE rebuild on SQLite

    class Meta:
        ordering = ["due_at"]
        indexes = [
            # One indexed read per worker round: the oldest due work, nothing else. Only queued
            # rows have a next_try_at (sent, failed and cancelled rows have none), so the index
            # stays the size of the queue; `next_try_at <= now` implies the condition, which
            # SQLite and PostgreSQL both see with a bound parameter.
            models.Index(
                fields=["next_try_at"],
                condition=models.Q(next_try_at__isnull=False),
                name="reminder_due_work",
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.pk} {self.kind}/{self.channel} {self.status}"
