"""One error format for the whole API: RFC 9457 `application/problem+json`.

Every error body is {type, title, status, detail, instance, errors: [{field, message}]}; a field
is named the way the client sent it ("body.date_of_birth", "query.limit", "path.patient_id").
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from dermis.core.errors import InputError
from dermis.core.patient import field_name
from dermis.web.clinic.errors import PatientMerged

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
REALM = 'Bearer realm="dermis"'


class ApiError(Exception):
    """An error a client caused, answered as a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict] | None = None,
        type_: str = "about:blank",
        title: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.type = type_
        self.title = title or HTTPStatus(status).phrase


class TokenRejected(AuthenticationError):
    """A bearer token was sent but is unknown, expired or revoked."""

    def __init__(self) -> None:
        super().__init__(message="The token is unknown, expired or revoked.")


def field_error(field: str, message: str, status: int = 422) -> ApiError:
    """A 422 (or `status`) naming one field."""
    return ApiError(
        status,
        f"{field}: {message}",
        errors=[{"field": field, "message": message}],
        type_="urn:dermis:problem:invalid-input" if status == 422 else "about:blank",
    )


def forbidden(detail: str = "Your role does not give access to this.") -> ApiError:
    return ApiError(403, detail)


def not_found() -> ApiError:
    # The same answer whether the record is absent or another clinic's: an id confirms nothing.
    return ApiError(404, "No such record.")


def conflict(detail: str, type_: str) -> ApiError:
    return ApiError(409, detail, type_=type_)


def problem(request: HttpRequest, err: ApiError, headers: dict | None = None) -> HttpResponse:
    body = {
        "type": err.type,
        "title": err.title,
        "status": err.status,
        "detail": err.detail,
        "instance": request.path,
        "errors": err.errors,
    }
    response = HttpResponse(json.dumps(body), status=err.status, content_type=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _message(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    msg = str(error.get("msg", "is not valid"))
    msg = msg.removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def _field(loc: tuple) -> str:
    """("body", "payload", "intake", 0) -> "body.intake[0]": one body parameter per operation."""
    parts = list(loc)
    if parts and parts[0] == "body" and len(parts) >= 2 and parts[1] == "payload":
        del parts[1]
    return field_name(tuple(parts))


def validation_problem(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _field(tuple(e.get("loc", ()))), "message": _message(e)} for e in exc.errors
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "Invalid input."
    err = ApiError(422, detail, errors=errors, type_="urn:dermis:problem:invalid-input")
    return problem(request, err)


def install(api: NinjaAPI) -> None:
    """Answer every error of `api` as a problem document (never a traceback)."""

    def on_api_error(request, exc: ApiError):
        return problem(request, exc)

    def on_input_error(request, exc: InputError):
        status = getattr(exc, "status", 422)
        if status == 404:
            return problem(request, not_found())
        if status == 403:
            return problem(request, forbidden(f"{exc.message[:1].upper()}{exc.message[1:]}."))
        field = exc.field
        if hasattr(exc, "status") and not field.startswith(("body", "query", "path")):
            field = f"body.{field}"  # a service names the field as the body sends it
        err = field_error(field, exc.message, status)
        if status == 409:
            err.type = f"urn:dermis:problem:{getattr(exc, 'code', 'conflict')}"
        err.errors[0].update(getattr(exc, "problem_extra", {}))  # e.g. a duplicate's candidates
        possible_from = getattr(exc, "possible_from", None)
        if possible_from is not None:
            err.type = "urn:dermis:problem:not-safe-yet"
            err.errors[0]["possible_from"] = possible_from.isoformat()
        return problem(request, err)

    def on_auth(request, exc: AuthenticationError):
        detail = (
            str(exc) if isinstance(exc, TokenRejected) else "Send Authorization: Bearer <token>."
        )
        header = REALM + (', error="invalid_token"' if isinstance(exc, TokenRejected) else "")
        err = ApiError(401, detail, type_="urn:dermis:problem:unauthenticated")
        return problem(request, err, {"WWW-Authenticate": header})

    def on_merged(request, exc: PatientMerged):
        # 308 keeps the method: a client that follows it reads or writes the kept record.
        location = re.sub(
            rf"/patients/{exc.merged_id}(?=/|$)", f"/patients/{exc.kept_id}", request.path, count=1
        )
        err = ApiError(
            308,
            f"Patient {exc.merged_id} was merged into patient {exc.kept_id}.",
            type_="urn:dermis:problem:patient-merged",
            errors=[{"field": "path.patient_id", "message": "was merged", "kept_id": exc.kept_id}],
        )
        return problem(request, err, {"Location": location})

    def on_http_error(request, exc: HttpError):
        return problem(request, ApiError(exc.status_code, str(exc)))

    def on_404(request, exc):
        return problem(request, not_found())

    def on_denied(request, exc):
        return problem(request, forbidden())

    def on_unexpected(request, exc: Exception):
        # Type and stack only: an exception's message can quote patient data (e.g. a DB error).
        logger.error(
            "API %s %s failed: %s\n%s",
            request.method,
            request.resolver_match.route if request.resolver_match else "?",
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        err = ApiError(500, "Something went wrong on our side; it has been logged.")
        return problem(request, err)

    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(InputError, on_input_error)
    api.add_exception_handler(ValidationError, validation_problem)
    api.add_exception_handler(AuthenticationError, on_auth)
    api.add_exception_handler(PatientMerged, on_merged)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_404)
    api.add_exception_handler(PermissionDenied, on_denied)
    api.add_exception_handler(Exception, on_unexpected)
