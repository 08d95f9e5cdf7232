"""Patients: the demographics front desk may see; everything medical hangs off this record."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad
from dermis.web.clinic.models.tenancy import PHOTOTYPES, SEXES


class Patient(FastLoad, models.Model):
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
    # Kept by the patients services (patients/normalise.py): what search and the duplicate
    # check compare. On PostgreSQL both also have a trigram index (migration 0009).
    search_name = models.CharField(max_length=210, blank=True, default="", editable=False)
    phone_normalised = models.CharField(max_length=40, blank=True, default="", editable=False)

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(fields=["clinic", "family_name"]),
            models.Index(fields=["clinic", "date_of_birth"]),
            models.Index(fields=["clinic", "search_name"]),
            models.Index(fields=["clinic", "phone_normalised"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class PatientTally(FastLoad, models.Model):
    """How many patients a clinic has, kept by the database itself: triggers on `clinic_patient`
    (migration 0027) add and take away as rows are inserted, deleted or change clinic, in the
    same transaction, whatever wrote them (a service, an import, a merge or an erasure, a bulk
    load). The patient list and the API's read their count here instead of counting the clinic's
    patients on every page. Nothing in Python writes it. (On SQLite a migration that rebuilds
    `clinic_patient` drops its triggers: the tally's tests would fail.)"""

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic"], name="patient_tally_unique")]

    def __str__(self) -> str:
        return f"{self.n} patients of clinic {self.clinic_id}"


class PatientMerge(FastLoad, models.Model):
    """A record merged into another: its old id leads to the kept record, and the demographics
    it had when merged are kept (nothing is lost). Written only by `merge_patients`."""

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.PROTECT, related_name="+")
    merged_id = models.BigIntegerField(unique=True)
    kept = models.ForeignKey("clinic.Patient", on_delete=models.CASCADE, related_name="merged_from")
    demographics = models.JSONField(default=dict, help_text="the merged-away record as it was")
    merged_at = models.DateTimeField(default=clock.now)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-merged_at", "-pk"]

    def __str__(self) -> str:
        return f"patient {self.merged_id} merged into {self.kept_id}"


class PatientVersion(FastLoad, models.Model):
    """A number the database adds one to whenever a row of the patient's changes that their
    record page, FHIR bundle, forecast chart or series proposal is drawn from: an appointment, a
    consultation, a plan, a session (its areas and addenda too), a grade, a check-in, a portal
    answer, an erasure asked for, a photo, a consent, a reminder, a safety override or recheck.
    Triggers (migration 0033) keep it in the writing transaction, whatever wrote the rows, so a
    record drawn for one number (and the clinic's `ReferenceVersion`) may be kept and shown again
    while both stand. Nothing in Python writes it.

    The patient is a plain number, not a foreign key, as `ScheduleVersion`'s clinic is."""

    patient_id = models.BigIntegerField(primary_key=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"patient {self.patient_id}: record version {self.n}"


class ReferenceVersion(FastLoad, models.Model):
    """A number the database adds one to whenever a row of the clinic's own changes that a
    patient's record page or FHIR bundle shows: a location, a member of staff (their name, their
    user's name or email), an outcome parameter set, an external id. Triggers (migration 0033)
    keep it, as `PatientVersion`'s. Nothing in Python writes it."""

    clinic_id = models.BigIntegerField(primary_key=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"clinic {self.clinic_id}: reference version {self.n}"
