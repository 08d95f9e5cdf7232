"""The recall worklist's stored rows and the front desk's contact log.

`RecallEntry` rows are derived data: `scheduling/due_dates.py` rewrites a patient's rows whenever
what they depend on changes (a session signed, a grade recorded, a plan accepted, revised or
completed, an appointment booked, moved or cancelled, the clinic's outcome parameters changed), in
the same transaction as that change. The worklist reads a page of them; it never forecasts.

`RecallRecompute` is one row per clinic: the background recomputation of its rows after its
outcome parameters changed (`scheduling/recompute.py`), and how far it has got.

`RecallContact` is what the front desk did about a patient on the list: one row per call, never
changed or deleted. `LatestRecallContact` points at each patient's newest one (kept by the contact
service, `recall_desk.log_contact`, and by a merge): the worklist joins it instead of looking for
the newest contact of every row.

`RecallVersion` is a number per clinic that the database adds one to whenever anything the
worklist shows changes (migration 0031): the worklist read for one number is kept while it stands.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad


class RecallEntry(FastLoad, models.Model):
    class Section(models.TextChoices):
        MAINTENANCE = "maintenance", "Due for maintenance"
        SERIES = "series", "Series not fully booked"

    class Basis(models.TextChoices):
        FORECAST = "forecast", "Outcome forecast"
        CADENCE = "cadence", "Maintenance interval"
        SERIES = "series", "Plan"

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="recall_entries"
    )
    section = models.CharField(max_length=12, choices=Section.choices)
    # Maintenance: the due day. Series: the last session done or booked (null: none yet).
    due = models.DateField(null=True, blank=True)
    basis = models.CharField(max_length=10, choices=Basis.choices)
    modality = models.CharField(max_length=30, help_text="the kind of treatment due")
    # Clinical detail (why, the forecast's sparkline): shown to clinical roles only.
    why = models.TextField(blank=True)
    spark = models.JSONField(null=True, blank=True)
    chart = models.BooleanField(default=False, help_text="a forecast chart exists")
    no_chart_reason = models.CharField(max_length=200, blank=True)
    last_session = models.ForeignKey(
        "clinic.TreatmentSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    minutes = models.PositiveIntegerField(default=0)
    plan = models.ForeignKey(
        "clinic.TreatmentPlan", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    course = models.PositiveSmallIntegerField(default=0)
    planned = models.PositiveSmallIntegerField(default=0)
    counted = models.PositiveSmallIntegerField(default=0)
    # The latest start of a treatment or maintenance appointment still held (booked): while it
    # is ahead the patient is not due.
    booked_until = models.DateTimeField(null=True, blank=True)
    version = models.CharField(max_length=120, help_text="the inputs' version")
    computed_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["clinic", "section", "due", "pk"]
        indexes = [
            models.Index(fields=["clinic", "section", "due"], name="recall_clinic_due"),
            models.Index(fields=["patient", "section"], name="recall_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.section} {self.patient_id} {self.due}"


class RecallContact(FastLoad, models.Model):
    class Outcome(models.TextChoices):
        CALLED = "called", "Called"
        NO_ANSWER = "no_answer", "No answer"
        LEFT_MESSAGE = "left_message", "Left a message"
        BOOKED = "booked", "Booked"
        DECLINED = "declined", "Declined"
        SNOOZE = "snooze", "Snooze until"

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="recall_contacts"
    )
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    snooze_until = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=clock.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["patient", "-at"], name="recall_contact_patient")]

    def __str__(self) -> str:
        return f"{self.outcome} {self.patient_id} {self.at:%Y-%m-%d}"


class LatestRecallContact(FastLoad, models.Model):
    """Derived: the patient's newest `RecallContact` (by `at`, then id)."""

    patient = models.OneToOneField(
        "clinic.Patient",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="latest_recall_contact",
    )
    contact = models.OneToOneField(RecallContact, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"latest recall contact of {self.patient_id}: {self.contact_id}"


class RecallRecompute(FastLoad, models.Model):
    """A clinic's background recomputation of its recall rows. `generation` grows with each
    request, so a task queued for an older one stops; `last_patient_id` is where the last
    committed batch ended, so a re-run continues from there."""

    clinic = models.OneToOneField(
        "clinic.Clinic",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="recall_recompute",
    )
    generation = models.PositiveIntegerField(default=0)
    version = models.CharField(max_length=120, help_text="the inputs' version it computes")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    last_patient_id = models.BigIntegerField(default=0)
    requested_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recall recompute {self.clinic_id} #{self.generation}: {self.done}/{self.total}"

    @property
    def pending(self) -> bool:
        return self.finished_at is None


class RecallVersion(FastLoad, models.Model):
    """A number the database adds one to whenever anything changes in a clinic that its recall
    worklist shows: a stored recall row, a contact logged (or the latest one moved), an
    appointment, a listed patient's name, phone or email, a plan's version number, a member of
    staff (a follow-up's practitioner).
    Triggers (migration 0031) keep it in the writing transaction, whatever wrote the rows (a
    service, a bulk load, a cascade, the admin site), so a page of the worklist read for one
    number may be kept and shown again while the number stands (`recall_list.kept_worklist`).
    Nothing in Python writes it.

    The clinic is a plain number, not a foreign key, as `ScheduleVersion`'s is."""

    clinic_id = models.BigIntegerField(primary_key=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"recall version {self.n} of clinic {self.clinic_id}"
