"""Charted sessions, their areas and addenda, and clinical photos."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad
from dermis.web.clinic.models.tenancy import MODALITIES


class TreatmentSession(FastLoad, models.Model):
    """A charted session. Finalising signs and locks it; later changes are addenda."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINAL = "final", "Finalised"

    class Endpoint(models.TextChoices):
        NONE = "none", "None reached"
        ERYTHEMA = "erythema", "Even erythema"
        PINPOINT_BLEEDING = "pinpoint_bleeding", "Pinpoint bleeding"

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="sessions")
    plan = models.ForeignKey(
        "clinic.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sessions",
    )
    appointment = models.OneToOneField(
        "clinic.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="session",
    )
    practitioner = models.ForeignKey(
        "clinic.StaffMember", on_delete=models.PROTECT, related_name="sessions"
    )
    performed_at = models.DateTimeField(default=clock.now)
    duration_minutes = models.PositiveIntegerField(default=60)
    modality = models.CharField(max_length=20, choices=MODALITIES)
    device = models.CharField(max_length=40, help_text="knowledge-base device id")
    cartridge = models.CharField(max_length=100, blank=True, help_text="needle cartridge or tip")
    lot_number = models.CharField(max_length=60, blank=True)
    serum = models.CharField(max_length=200, blank=True)
    numbing = models.CharField(max_length=200, blank=True)
    endpoint = models.CharField(max_length=20, choices=Endpoint.choices, default=Endpoint.NONE)
    immediate_reactions = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    precare_confirmed = models.BooleanField(
        default=False, help_text="the practitioner recorded that pre-care was done in time"
    )
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.DRAFT)
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_sha256 = models.CharField(
        max_length=64, blank=True, help_text="hash of the record as finalised"
    )
    # Nullable, so SQLite adds the columns without rebuilding the table.
    # Tamper evidence (clinic/seals.py): a keyed HMAC of the record as finalised. Null: not
    # sealed (a draft, or a record finalised before keys, checked by content_sha256 alone).
    seal = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    seal_algorithm = models.CharField(max_length=20, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"Session {self.pk} ({self.modality})"

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL


class SessionArea(FastLoad, models.Model):
    session = models.ForeignKey(
        "clinic.TreatmentSession", on_delete=models.CASCADE, related_name="areas"
    )
    area = models.CharField(max_length=40, help_text="knowledge-base area id")
    depth_mm = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    tip = models.CharField(max_length=10, blank=True)
    passes = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["session", "area"]
        constraints = [
            models.UniqueConstraint(fields=["session", "area"], name="session_area_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.area} in session {self.session_id}"


class SessionAddendum(FastLoad, models.Model):
    session = models.ForeignKey(
        "clinic.TreatmentSession", on_delete=models.PROTECT, related_name="addenda"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    text = models.TextField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Addendum {self.pk} to session {self.session_id}"


class Photo(FastLoad, models.Model):
    """A clinical photo. The file lives under settings.PHOTO_ROOT, outside any web root."""

    class Stage(models.TextChoices):
        BEFORE = "before", "Before"
        AFTER = "after", "After"
        FOLLOW_UP = "follow_up", "Follow-up"

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="photos")
    session = models.ForeignKey(
        "clinic.TreatmentSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="photos",
    )
    area = models.CharField(max_length=40)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.BEFORE)
    taken_on = models.DateField(default=clock.today)
    storage_name = models.CharField(max_length=80, unique=True, help_text="file name in PHOTO_ROOT")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    consent_for_record = models.BooleanField(
        default=True, help_text="the patient agreed to this photo being kept in the record"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["area", "taken_on", "uploaded_at"]

    def __str__(self) -> str:
        return f"Photo {self.pk} ({self.area}, {self.taken_on})"
