"""The append-only audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("the audit log is append-only")

    def delete(self):
        raise PermissionError("the audit log is append-only")


class AuditEvent(models.Model):
    """Who saw or changed what in a patient's record, when and from where. Append-only.

    The patient is kept as a plain id (not a foreign key) so the trail outlives an erasure.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        SIGN = "sign", "Signed"
        DOWNLOAD = "download", "Downloaded"
        EXPORT = "export", "Exported"
        ERASE = "erase", "Erased"
        DENIED = "denied", "Access refused"

    at = models.DateTimeField(default=clock.now, db_index=True)
    clinic = models.ForeignKey(
        "clinic.Clinic", null=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    patient_id_ref = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    summary = models.CharField(max_length=200, blank=True, help_text="never patient data")
    path = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")
