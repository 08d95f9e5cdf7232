"""Every 4xx and 5xx answer under /api/ is a problem document, whoever made it.

The API's own errors already are (dermis.web.api.errors); this catches the answers made before
or around it: django-ninja's 405 for a method an address does not take, Django's 400 for a
request it cannot read, or a 500 from a failure outside a view. Headers a client acts on
(Allow, WWW-Authenticate, Retry-After) are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse

from dermis.web.api.errors import PROBLEM_JSON, ApiError, problem

KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def _detail(request: HttpRequest, response: HttpResponse) -> str:
    if response.status_code == 405:
        allowed = response.get("Allow", "")
        return f"{request.method} is not allowed at this address; it takes {allowed}."
    if response.status_code >= 500:
        return "Something went wrong on our side; it has been logged."
    try:
        return HTTPStatus(response.status_code).description or "The request was refused."
    except ValueError:
        return "The request was refused."


class ApiProblemMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith("/api/")
            or response.get("Content-Type", "").startswith(PROBLEM_JSON)
        ):
            return response
        status = response.status_code
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
        err = ApiError(status, _detail(request, response), title=title)
        headers = {k: response[k] for k in KEPT_HEADERS if k in response}
        return problem(request, err, headers)
