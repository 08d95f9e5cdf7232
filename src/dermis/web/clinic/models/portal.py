"""The patient's own side: the clinic's portal settings, one-time sign-in links and their rate
limits, intake answered at home, and check-ins after a session (with their alerts)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad


def default_checkin_days() -> list[int]:
    return [1, 3]


class PortalSettings(FastLoad, models.Model):
    """A clinic's portal choices. A clinic without a row has the portal on, with the defaults.
    Online cancelling and moving keep to the clinic's `cancel_notice_hours`."""

    clinic = models.OneToOneField(
        "clinic.Clinic", on_delete=models.CASCADE, related_name="portal_settings"
    )
    enabled = models.BooleanField(default=True)
    out_of_hours_advice = models.TextField(
        blank=True, help_text="what a patient with a warning sign should do when the clinic is shut"
    )
    checkin_days = models.JSONField(
        default=default_checkin_days,
        help_text="days after a session on which patients are asked to check in (1-14)",
    )

    def __str__(self) -> str:
        return f"Portal settings of clinic {self.clinic_id}"


class PortalLink(FastLoad, models.Model):
    """A one-time sign-in link: only the SHA-256 of its token is kept."""

    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="portal_links"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Portal link {self.pk}"


class PortalThrottle(FastLoad, models.Model):
    """One request for a sign-in link, keyed by the SHA-256 of the address or the client IP."""

    key_sha256 = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=clock.now, db_index=True)

    def __str__(self) -> str:
        return f"Sign-in request {self.pk}"


class PortalIntake(FastLoad, models.Model):
    """The questionnaire as the patient answered it, what the screening recognised at the time,
    and the practitioner's review."""

    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="portal_intakes"
    )
    modality = models.CharField(max_length=20, blank=True, help_text="the treatment asked about")
    answers = models.JSONField(help_text="dermis.core.patient.Intake, model_dump(mode='json')")
    screening = models.JSONField(help_text="Screening.to_dict() on the day it was answered")
    recognition = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(default=clock.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return f"Portal intake {self.pk}"


class CheckIn(FastLoad, models.Model):
    """The patient's check-in on a day after a session; a warning sign raises an alert."""

    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="check_ins"
    )
    session = models.ForeignKey(
        "clinic.TreatmentSession", on_delete=models.CASCADE, related_name="check_ins"
    )
    day = models.PositiveSmallIntegerField(help_text="days after the session")
    looks = models.CharField(max_length=20)
    feels = models.CharField(max_length=20)
    warnings = models.JSONField(default=list, blank=True, help_text="warning signs answered yes")
    improvement = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="patient's global impression of change, 1-7"
    )
    note = models.TextField(blank=True)
    photo_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Check-in {self.pk} (day {self.day})"

    @property
    def alert(self) -> bool:
        return bool(self.warnings)


class ErasureRequest(FastLoad, models.Model):
    """A patient's request, from the portal, that the clinic erase their record. The clinic
    decides and erases through the erasure service; clinical-record retention rules apply."""

    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="erasure_requests"
    )
    requested_at = models.DateTimeField(default=clock.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Erasure request {self.pk}"
