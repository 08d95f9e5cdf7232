"""Placeholder routes, replaced by the real views."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path


def _todo(request, **kwargs):
    return HttpResponse("not yet")


urlpatterns = [
    path("patients/", _todo, name="patient-list"),
    path("patients/new/", _todo, name="patient-create"),
    path("patients/<int:patient_id>/", _todo, name="patient-detail"),
]
