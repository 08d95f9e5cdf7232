from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "dermis.web.api"
    label = "api"
    verbose_name = "API"
