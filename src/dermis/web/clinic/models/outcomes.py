"""Follow-up grades on each concern's named scale."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock


class FollowUpGrade(models.Model):
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
