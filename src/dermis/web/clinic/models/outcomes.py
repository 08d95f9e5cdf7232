"""Follow-up grades on each concern's named scale."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad


class FollowUpGrade(FastLoad, models.Model):
    """A grade on a concern's named scale at a follow-up (the outcome model's personalisation)."""

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="grades")
    plan = models.ForeignKey(
        "clinic.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grades",
    )
    area = models.CharField(max_length=40)
    concern = models.CharField(max_length=40)
    grade = models.FloatField(help_text="on the concern's scale (knowledge base)")
    baseline = models.FloatField(null=True, blank=True, help_text="grade before treatment")
    graded_on = models.DateField(default=clock.today)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["graded_on"]

    def __str__(self) -> str:
        return f"Grade {self.pk} ({self.area}/{self.concern})"


class OutcomeParameterSet(FastLoad, models.Model):
    """A clinic's own outcome-model parameter set (a refit of the packaged one to its follow-ups).

    `data` is the core's `OutcomeParameters.to_dict()`; `version` is the set's own name, which every
    forecast made with it shows. At most one set per clinic is active; with none, the clinic
    forecasts with the packaged set.
    """

    clinic = models.ForeignKey(
        "clinic.Clinic", on_delete=models.CASCADE, related_name="outcome_parameter_sets"
    )
    version = models.CharField(max_length=64)
    base_version = models.CharField(max_length=64, help_text="the set it was refitted from")
    data = models.JSONField(help_text="OutcomeParameters.to_dict()")
    provenance = models.CharField(max_length=300, blank=True, help_text="how it was made")
    follow_ups = models.PositiveIntegerField(default=0)
    patients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "version"], name="outcome_parameter_set_version_unique"
            ),
            models.UniqueConstraint(
                fields=["clinic"],
                condition=models.Q(active=True),
                name="outcome_parameter_set_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"Parameter set {self.version}"
