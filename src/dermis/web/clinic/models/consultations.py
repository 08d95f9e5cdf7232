"""Consultations (the core's inputs and answers), consent records and versioned plans."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad


class Consultation(FastLoad, models.Model):
    """Intake and assessment as the core's inputs, and what the core answered (snapshots)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Plan accepted"
        CLOSED = "closed", "Closed without a plan"

    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="consultations"
    )
    practitioner = models.ForeignKey(
        "clinic.StaffMember", null=True, on_delete=models.SET_NULL, related_name="consultations"
    )
    created_at = models.DateTimeField(default=clock.now)
    as_of = models.DateField(default=clock.today)
    intake = models.JSONField(help_text="dermis.core.patient.Intake, model_dump(mode='json')")
    assessment = models.JSONField(help_text="dermis.core.patient.Assessment")
    screening = models.JSONField(help_text="Screening.to_dict() at as_of")
    proposal = models.JSONField(help_text="Plan.to_dict(): the planner's proposal")
    recognition = models.JSONField(
        default=dict,
        blank=True,
        help_text="Recognition.to_dict(): facts read from the free text, and what was not",
    )
    knowledge_version = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Consultation {self.pk} ({self.as_of})"


class ConsentRecord(FastLoad, models.Model):
    """The consent text exactly as shown, its version and hash, and the drawn signature."""

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="consents")
    consultation = models.ForeignKey(
        "clinic.Consultation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
    )
    text_version = models.CharField(max_length=40)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    signature_png = models.BinaryField(help_text="the drawn signature, PNG")
    signer_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=clock.now)
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # Nullable, so SQLite adds the columns without rebuilding the table.
    # Tamper evidence (clinic/seals.py): a keyed HMAC of the whole record as signed (text,
    # signature, signer, time). Null: signed before keys, checked by text_sha256 alone.
    seal = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    seal_algorithm = models.CharField(max_length=20, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"Consent {self.pk} ({self.text_version})"


class TreatmentPlan(FastLoad, models.Model):
    """One version of a patient's plan. A revision adds a version; old ones stay as they were."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"
        COMPLETED = "completed", "Completed"

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="plans")
    consultation = models.ForeignKey(
        "clinic.Consultation", on_delete=models.PROTECT, related_name="plans"
    )
    consent = models.ForeignKey(
        "clinic.ConsentRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plans",
    )
    version = models.PositiveIntegerField()
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    content = models.JSONField(help_text="Plan.to_dict() with the practitioner's adjustments")
    adjustments = models.JSONField(
        default=list, blank=True, help_text="[{what, area, from, to, reason}] against the proposal"
    )
    note = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["patient", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="plan_version_unique"),
        ]

    def __str__(self) -> str:
        return f"Plan {self.pk} v{self.version}"
