"""The read-only FHIR REST endpoint: /fhir/R5/ (and /fhir/R4/, the same data converted).

Interactions: `GET metadata` (capabilities, no token needed), `GET {type}/{id}` (read),
`GET {type}?params` (search, a Bundle searchset paged with `_count` and `_offset`) and
`GET Patient/{id}/$everything`. A bearer token from `dermis token create` is required, as for
the API, with the same clinic scoping and role rules; every read of patient data is audited.
Errors are OperationOutcome resources.
"""

from __future__ import annotations

import json
import logging
import traceback
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import re_path

from dermis.web.api.auth import TokenAuth
from dermis.web.api.errors import TokenRejected
from dermis.web.clinic import clock
from dermis.web.clinic.access import actor_of, audit, staff_of
from dermis.web.clinic.audit import record_many
from dermis.web.clinic.models import AuditEvent
from dermis.web.clinic.paging import page_and_total
from dermis.web.clinic.patients import record_version
from dermis.web.clinic.together import read_together
from dermis.web.fhir import kept
from dermis.web.fhir.rest import capability, r4
from dermis.web.fhir.rest.params import BadParameter, integer
from dermis.web.fhir.rest.registry import KINDS
from dermis.web.fhir.rest.resources import RestRefs, pk_of

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
VERSIONS = ("R5", "R4")
DEFAULT_COUNT = 20
MAX_COUNT = 200
# Parameters every search accepts besides the type's own.
COMMON = {"_id", "_count", "_offset", "_format"}
FORMATS = {"json", "application/json", "application/fhir+json"}


class Outcome(Exception):
    """An error answered as an OperationOutcome."""

    def __init__(self, status: int, code: str, text: str, where: str | None = None) -> None:
        super().__init__(text)
        self.status, self.code, self.text, self.where = status, code, text, where


def _response(data: dict, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data), status=status, content_type=FHIR_JSON)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def outcome(err: Outcome) -> HttpResponse:
    issue = {"severity": "error", "code": err.code, "diagnostics": err.text}
    if err.where:
        issue["expression"] = [err.where]
    headers = {}
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="dermis"'
    if err.status == 405:
        headers["Allow"] = "GET, HEAD"
    return _response({"resourceType": "OperationOutcome", "issue": [issue]}, err.status, headers)


def _staff(request: HttpRequest, roles):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Outcome(401, "login", "Send Authorization: Bearer <token>.")
    try:
        TokenAuth().authenticate(request, token.strip())
    except TokenRejected:
        raise Outcome(401, "login", "The token is unknown, expired or revoked.") from None
    staff = staff_of(request)
    if staff is None:
        raise Outcome(403, "forbidden", "Your account is not a member of a clinic's staff.")
    if staff.role not in frozenset(roles):
        raise Outcome(403, "forbidden", "Your role does not give access to this.")
    request.staff = staff
    return staff


def _kind(name: str):
    kind = KINDS.get(name)
    if kind is None:
        raise Outcome(404, "not-supported", f"Resource type '{name}' is not served here.")
    return kind


def _shape(version: str, resource: dict) -> dict:
    return r4.resource(resource) if version == "R4" else resource


def _base(request: HttpRequest, version: str) -> str:
    return request.build_absolute_uri(f"/fhir/{version}/")


def _entry(request, version: str, resource: dict, mode: str | None = "match") -> dict:
    url = f"{_base(request, version)}{resource['resourceType']}/{resource['id']}"
    entry = {"fullUrl": url, "resource": _shape(version, resource)}
    if mode:
        entry["search"] = {"mode": mode}
    return entry


def _query(request: HttpRequest, kind) -> dict[str, list[str]]:
    allowed = COMMON | {param.name for param in kind.params}
    query = {key: request.GET.getlist(key) for key in request.GET}
    for key in query:
        if key not in allowed:
            raise Outcome(
                400,
                "not-supported",
                f"Unknown search parameter '{key}' for {kind.name}; "
                f"supported: {', '.join(sorted(allowed))}.",
                where=key,
            )
    for value in query.get("_format", []):
        if value not in FORMATS:
            raise Outcome(400, "not-supported", "Only JSON is served.", where="_format")
    return query


def _page(request: HttpRequest, query) -> tuple[int, int]:
    try:
        count = (query.get("_count") or [str(DEFAULT_COUNT)])[0]
        count = integer("_count", count, low=0, high=MAX_COUNT)
        offset = integer("_offset", (query.get("_offset") or ["0"])[0], low=0, high=10**9)
    except BadParameter as exc:
        raise Outcome(400, "invalid", exc.message, where=exc.name) from None
    return count, offset


def _link(request, version: str, type_: str, query, offset: int, count: int) -> str:
    pairs = [(k, v) for k, vs in query.items() if k not in {"_offset", "_count"} for v in vs]
    pairs += [("_count", str(count)), ("_offset", str(offset))]
    return f"{_base(request, version)}{type_}?{urlencode(pairs)}"


def _searchset(request, version, type_, query, total, resources, offset, count) -> dict:
    links = [{"relation": "self", "url": _link(request, version, type_, query, offset, count)}]
    if count and offset + count < total:
        following = _link(request, version, type_, query, offset + count, count)
        links.append({"relation": "next", "url": following})
    if count and offset > 0:
        previous = max(0, offset - count)
        links.append(
            {"relation": "previous", "url": _link(request, version, type_, query, previous, count)}
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": clock.now().isoformat(),
        "total": total,
        "link": links,
        "entry": [_entry(request, version, r) for r in resources] or None,
    }


def _answer(view):
    """Run `view`, turning an Outcome, a BadParameter or an unexpected error into an
    OperationOutcome (an unexpected one is logged by type and stack only, never its data)."""

    def wrapper(request: HttpRequest, version: str, *args, **kwargs) -> HttpResponse:
        try:
            if request.method not in {"GET", "HEAD"}:
                raise Outcome(405, "not-supported", "This endpoint is read-only: use GET.")
            return view(request, version, *args, **kwargs)
        except Outcome as err:
            return outcome(err)
        except BadParameter as exc:
            return outcome(Outcome(400, "invalid", exc.message, where=exc.name))
        except Exception as exc:
            # Type and stack only: an exception's message can quote patient data.
            stack = "".join(traceback.format_tb(exc.__traceback__))
            logger.error("FHIR %s failed: %s\n%s", request.method, type(exc).__name__, stack)
            return outcome(Outcome(500, "exception", "Something went wrong; it has been logged."))

    return wrapper


@_answer
def metadata(request: HttpRequest, version: str) -> HttpResponse:
    return _response(capability.statement(version, _base(request, version)))


@_answer
def read(request: HttpRequest, version: str, type_: str, id_: str) -> HttpResponse:
    kind = _kind(type_)
    staff = _staff(request, kind.roles)
    row = kind.read(staff, id_)
    if row is None:
        raise Outcome(404, "not-found", f"{type_}/{id_} is not known here.")
    resource = kind.build(row, RestRefs(staff.clinic))
    patient = kind.patient_of(row)
    audit(request, AuditEvent.Action.VIEW, patient=patient, summary=f"fhir: read {type_}")
    return _response(_shape(version, resource))


@_answer
def search(request: HttpRequest, version: str, type_: str) -> HttpResponse:
    kind = _kind(type_)
    staff = _staff(request, kind.roles)
    query = _query(request, kind)
    count, offset = _page(request, query)
    rows = kind.search(staff, query)
    page, total = page_and_total(rows, offset, count, lambda: _total(kind, staff, query, rows))
    ref = RestRefs(staff.clinic)
    resources = [kind.build(row, ref) for row in page]
    patients = {kind.patient_of(row) for row in page} - {None}
    summary = f"fhir: search {type_} ({len(page)} of {total})"
    if len(patients) == 1:
        audit(request, AuditEvent.Action.VIEW, patient=patients.pop(), summary=summary)
    elif patients:  # one event per patient, chained and written in one INSERT
        ordered = sorted(patients, key=lambda x: x.pk)
        record_many(actor_of(request), AuditEvent.Action.VIEW, ordered, summary=summary)
    body = _searchset(request, version, type_, query, total, resources, offset, count)
    return _response({k: v for k, v in body.items() if v is not None})


def _total(kind, staff, query, rows) -> int:
    if kind.total is not None:
        return kind.total(staff, query, rows)
    if hasattr(rows, "count") and not isinstance(rows, list):
        return rows.count()
    return len(rows)


@_answer
def everything(request: HttpRequest, version: str, id_: str) -> HttpResponse:
    kind = KINDS["Patient"]
    staff = _staff(request, KINDS["Procedure"].roles)
    for key in request.GET:
        if key not in {"_format"}:
            raise Outcome(400, "not-supported", f"Unknown parameter '{key}' for $everything.", key)
    pk = pk_of(id_)
    # The patient and the numbers their bundle is kept by, in one round trip.
    first = [] if pk is None else record_version.with_patient(pk, staff.clinic_id)
    with read_together(*first):
        patient = kind.read(staff, id_)
        if patient is None:
            raise Outcome(404, "not-found", f"Patient/{id_} is not known here.")
        bundle = json.loads(kept.patient_bundle_json(patient, ref=RestRefs(patient.clinic)))
    resources = [e["resource"] for e in bundle.get("entry", [])]
    audit(request, AuditEvent.Action.EXPORT, patient, summary="fhir: Patient $everything")
    self_url = request.build_absolute_uri()
    return _response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "timestamp": clock.now().isoformat(),
            "total": len(resources),
            "link": [{"relation": "self", "url": self_url}],
            "entry": [_entry(request, version, r) for r in resources],
        }
    )


@_answer
def unknown(request: HttpRequest, version: str, rest: str = "") -> HttpResponse:
    raise Outcome(404, "not-supported", "There is no such FHIR address; see metadata.")


@_answer
def _unknown_version(request: HttpRequest, version: str) -> HttpResponse:
    raise Outcome(404, "not-supported", "FHIR versions served: R5 and R4.")


_V = "(?P<version>R5|R4)"
_TYPE = "(?P<type_>[A-Z][A-Za-z]{1,40})"
_ID = r"(?P<id_>[A-Za-z0-9\-.]{1,64})"

urlpatterns = [
    re_path(rf"^fhir/{_V}/metadata$", metadata),
    re_path(rf"^fhir/{_V}/Patient/{_ID}/\$everything$", everything),
    re_path(rf"^fhir/{_V}/{_TYPE}/{_ID}$", read),
    re_path(rf"^fhir/{_V}/{_TYPE}/?$", search),
    re_path(rf"^fhir/{_V}/(?P<rest>.*)$", unknown),
    re_path(r"^fhir/(?P<version>.*)$", _unknown_version),
]
