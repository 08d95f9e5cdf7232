"""URL routes of the web app."""

from django.contrib import admin
from django.urls import path

from dermis.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
