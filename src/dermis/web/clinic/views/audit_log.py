"""Placeholder routes, replaced by the real views."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path


def _todo(request, **kwargs):
    return HttpResponse("not yet")


urlpatterns = [
    path("audit/", _todo, name="audit-log"),
]
