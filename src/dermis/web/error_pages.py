"""Error pages that never fail: 400, 403, 404, 413 and 500.

Each page is first rendered as the clinic's own template (with the site's header when the request
allows it); if that raises anything (an unknown Host header, a database that is down, a static
file missing from the manifest) a self-contained page is sent instead. Under /api/ the answer is
a problem document, as the API's own errors are.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    403: "Your role does not give access to this page. Ask your clinic admin if you need it.",
    404: "There is nothing here, or it is not in your clinic.",
    413: "What was sent is too large for this server.",
    500: "The error has been logged. Nothing you entered was half-saved; please try again.",
}
TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found", 413: "Too large"}
TITLES[500] = "Something went wrong"

FALLBACK = (
    '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title} · Dermis</title></head><body><main><h1>{title}</h1><p>{message}</p>"
    '<p><a href="/">Dermis</a></p></main></body></html>'
)


def render_error(request: HttpRequest | None, status: int) -> HttpResponse:
    path = _path(request)
    if path.startswith("/api/"):
        return _problem(path, status)
    html = None
    if status != 500 and request is not None:
        try:
            html = render_to_string(f"{status}.html", request=request)
        except Exception:
            logger.warning("error page %s: the site template failed; sent the plain page", status)
    if html is None:
        html = FALLBACK.format(title=TITLES[status], message=MESSAGES[status])
    response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _path(request: HttpRequest | None) -> str:
    try:
        return request.path if request is not None else ""
    except Exception:
        return ""


def _problem(path: str, status: int) -> HttpResponse:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": MESSAGES[status],
        "instance": path,
        "errors": [],
    }
    response = HttpResponse(
        json.dumps(body), status=status, content_type="application/problem+json"
    )
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Django turns a form body over DATA_UPLOAD_MAX_MEMORY_SIZE into a 400; it is a 413.
    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    return render_error(request, status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render_error(request, 500)
