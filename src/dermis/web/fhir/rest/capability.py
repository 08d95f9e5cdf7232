"""The CapabilityStatement at /fhir/{version}/metadata, built from what the endpoint serves, so
it cannot claim an interaction or a search parameter that does not exist."""

from __future__ import annotations

from dermis.web.clinic import clock
from dermis.web.fhir.rest.registry import KINDS

FHIR_VERSION = {"R5": "5.0.0", "R4": "4.0.1"}
COMMON = [
    ("_id", "token", "the resource id (comma: any of)"),
    ("_count", "number", "page size (default 20, at most 200)"),
    ("_offset", "number", "how many matches to skip (the next link sets it)"),
]


def _param(name: str, type_: str, doc: str) -> dict:
    return {"name": name, "type": type_, "documentation": doc}


def _resource(kind) -> dict:
    params = [_param(*p) for p in COMMON]
    params += [_param(p.name, p.type, p.doc) for p in kind.params]
    out = {
        "type": kind.name,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "searchParam": params,
    }
    if kind.name == "Patient":
        out["operation"] = [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                "documentation": "GET Patient/{id}/$everything: the whole record (no parameters)",
            }
        ]
    return out


def statement(version: str, base: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": clock.now().isoformat(),
        "publisher": "Dermis",
        "kind": "instance",
        "software": {"name": "Dermis"},
        "implementation": {"description": "Dermis read-only FHIR endpoint", "url": base},
        "fhirVersion": FHIR_VERSION[version],
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read-only. Send Authorization: Bearer <token>; a token acts as "
                "its user, with the same clinic and role rules as the API.",
                "security": {
                    "cors": False,
                    "description": "Bearer tokens issued by `dermis token create` (not OAuth).",
                },
                "resource": [_resource(kind) for kind in KINDS.values()],
            }
        ],
    }
