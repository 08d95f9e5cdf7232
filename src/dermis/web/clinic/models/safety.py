"""What the practitioner records at the safety gate: overrides of relative findings and the
"anything changed?" check of an old screening. Both show on the record and are audited."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad


class SafetyOverride(FastLoad, models.Model):
    """A practitioner's written reason to go ahead despite a relative finding (never absolute)."""

    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.PROTECT, related_name="safety_overrides"
    )
    rule = models.CharField(max_length=60, help_text="the screening rule overridden")
    modality = models.CharField(max_length=20)
    reason = models.TextField()
    until = models.DateField(null=True, blank=True, help_text="the finding's own end, if dated")
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Override {self.pk} ({self.rule})"


class ScreeningRecheck(FastLoad, models.Model):
    """The chair-side check of a screening older than the clinic's limit."""

    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="rechecks")
    on = models.DateField(default=clock.today)
    changed = models.BooleanField(
        help_text="new medicines, pregnancy, cold sore, sunburn or recent procedures since"
    )
    answers = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-on", "-created_at"]

    def __str__(self) -> str:
        return f"Recheck {self.pk} ({self.on})"
