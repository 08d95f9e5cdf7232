from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "dermis.web.clinic"
    label = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from dermis.web import pg_times

        pg_times.install()
