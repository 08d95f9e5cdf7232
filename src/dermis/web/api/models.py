"""API tokens and the identifiers other systems gave the records imported from them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from dermis.web.clinic.models.loading import FastLoad

DEFAULT_TOKEN_DAYS = 90


def default_expiry():
    return timezone.now() + timedelta(days=DEFAULT_TOKEN_DAYS)


class ApiToken(FastLoad, models.Model):
    """A per-user bearer token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True, help_text="what the token is for")
    prefix = models.CharField(max_length=8, help_text="first characters, to recognise it")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=default_expiry)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Token {self.pk} ({self.prefix}...)"

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now and self.user.is_active


class ExternalId(FastLoad, models.Model):
    """(system, value) of another system's identifier -> our record, so imports are idempotent."""

    class Kind(models.TextChoices):
        PATIENT = "patient", "Patient"
        APPOINTMENT = "appointment", "Appointment"

    clinic = models.ForeignKey(
        "clinic.Clinic", on_delete=models.CASCADE, related_name="external_ids"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    system = models.CharField(max_length=255)
    value = models.CharField(max_length=255)
    object_id = models.BigIntegerField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["clinic", "kind", "system", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "kind", "system", "value"], name="external_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.system}|{self.value} -> {self.object_id}"

    @classmethod
    def of_patient(cls, patient, appointment_ids=()) -> list[ExternalId]:
        """Imported identifiers of `patient` and of the given appointments, in one query."""
        return list(
            cls.objects.filter(clinic_id=patient.clinic_id).filter(
                models.Q(kind=cls.Kind.PATIENT, object_id=patient.pk)
                | models.Q(kind=cls.Kind.APPOINTMENT, object_id__in=list(appointment_ids))
            )
        )
