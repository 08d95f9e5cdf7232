"""Project-wide middleware: request log lines, the request-body cap and `Cache-Control`."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from dermis.web.logs import redact_path

request_log = logging.getLogger("dermis.request")

Handler = Callable[[HttpRequest], HttpResponse]


class RequestLogMiddleware:
    """One line per request: method, path (no query string), status and milliseconds."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        path = redact_path(request.path)
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.INFO
        request_log.log(
            level,
            "%s %s %s %sms",
            request.method,
            path,
            status,
            elapsed_ms,
            extra={"method": request.method, "path": path, "status": status, "ms": elapsed_ms},
        )
        return response


class RequestBodyLimitMiddleware:
    """413 for a body larger than `MAX_REQUEST_BYTES`, judged by Content-Length before reading.

    Without a Content-Length Django reads no body at all, so the header is the whole story.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            return too_large(request, limit)
        return self.get_response(request)


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    detail = f"The request body is larger than the {limit // (1024 * 1024)} MiB this server takes."
    if request.path.startswith("/api/"):
        body = {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": detail,
            "instance": request.path,
            "errors": [{"field": "body", "message": detail}],
        }
        response = HttpResponse(
            json.dumps(body), status=413, content_type="application/problem+json"
        )
    else:
        from dermis.web.error_pages import render_error

        response = render_error(request, 413)
    # The client may still be sending: tell it the connection ends here.
    response["Connection"] = "close"
    response["Cache-Control"] = "no-store"
    return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response that set no caching rule of its own.

    Patient pages, photos, documents and API answers must never sit in a shared or browser cache;
    static files are served (and cached for a year) by WhiteNoise before this runs.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
