"""Unknown addresses under /api/ answer as the API does: a problem document, not an HTML page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from dermis.web.api.errors import ApiError, problem


def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return problem(request, ApiError(404, "There is no such API address; see /api/docs."))
