from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "dermis.web.clinic"
    label = "clinic"
    verbose_name = "Clinic"
