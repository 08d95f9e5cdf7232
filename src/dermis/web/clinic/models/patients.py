"""Patients: the demographics front desk may see; everything medical hangs off this record."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.tenancy import PHOTOTYPES, SEXES


class Patient(models.Model):
    """Demographics: what front desk may see. Everything medical hangs off this record."""

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.PROTECT, related_name="patients")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=SEXES, default="f")
    fitzpatrick = models.CharField(
        max_length=3, choices=PHOTOTYPES, blank=True, help_text="set at the consultation"
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    email_reminders = models.BooleanField(default=True)
    sms_reminders = models.BooleanField(default=True)
    booking_preferences = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"weekdays": [0..6], "times": [["09:00","12:00"]], "practitioner": id}',
    )
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(fields=["clinic", "family_name"]),
            models.Index(fields=["clinic", "date_of_birth"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
