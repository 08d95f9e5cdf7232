from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "dermis.web.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from dermis.web.api.models import ExternalId
        from dermis.web.clinic.models import Appointment, Patient

        def forget(kind: str):
            # Another system's id never outlives our record (an erasure deletes both at once).
            def receiver(sender, instance, **kwargs) -> None:
                ExternalId.objects.filter(
                    clinic_id=instance.clinic_id, kind=kind, object_id=instance.pk
                ).delete()

            return receiver

        post_delete.connect(forget("patient"), sender=Patient, weak=False)
        post_delete.connect(forget("appointment"), sender=Appointment, weak=False)
