"""The API instance mounted at /api/: version 1 under /api/v1/, OpenAPI at /api/openapi.json.

The docs page (/api/docs) is Swagger UI served from django-ninja's own static files, so it works
on a closed network; its validator badge, which would call validator.swagger.io, is off.
"""

from __future__ import annotations

from ninja import NinjaAPI, Swagger

from dermis.web.api import errors, openapi_tidy
from dermis.web.api.auth import TokenAuth
from dermis.web.api.kept import KeepingRenderer
from dermis.web.api.routers import (
    appointments,
    calibration,
    charting,
    consultations,
    exchange,
    integrity,
    messaging,
    outcomes,
    patients,
    recall,
    records,
    scheduling,
    staff,
)
from dermis.web.api.schemas import Problem

DESCRIPTION = """\
Dermis clinic API. Send `Authorization: Bearer <token>`; create a token with
`dermis token create USERNAME`. A token acts as its user: the same clinic and role rules as the
web pages (front desk: demographics and appointments only; another clinic's record is a 404).
Every error is `application/problem+json` naming the fields that were wrong.
"""

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
LICENSE = {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}


def _problem(description: str) -> dict:
    return {"description": description, "content": {errors.PROBLEM_JSON: {"schema": PROBLEM_REF}}}


class DermisAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja's schema plus the problem responses every operation can give."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        for path, item in schema["paths"].items():
            for operation in item.values():
                responses = operation["responses"]
                for code, response in responses.items():
                    if int(code) >= 400 and "content" in response:
                        response["content"] = {errors.PROBLEM_JSON: {"schema": PROBLEM_REF}}
                wanted = {500: "Unexpected error (logged; no details are given)"}
                if operation.get("security"):
                    wanted |= {401: "Missing, unknown, expired or revoked token"}
                    wanted |= {403: "The token's user may not do this"}
                if "{" in path:
                    wanted[404] = "No such record in your clinic"
                if "{patient_id}" in path:
                    wanted[308] = (
                        "The patient was merged into another: `Location` is the same request "
                        "for the kept record, whose id is `errors[0].kept_id`"
                    )
                if operation.get("parameters") or operation.get("requestBody"):
                    wanted[422] = "Invalid input: `errors` names each field"
                if operation.get("requestBody"):
                    wanted[400] = "The body is not JSON"
                for code, description in wanted.items():
                    responses.setdefault(code, _problem(description))
                # An operation open to anyone says so, rather than saying nothing.
                operation.setdefault("security", [])
        schema["info"]["license"] = LICENSE
        schema["servers"] = [{"url": "/", "description": "this Dermis installation"}]
        openapi_tidy.tidy(schema)
        return schema


api = DermisAPI(
    title="Dermis API",
    version="1",
    description=DESCRIPTION,
    auth=TokenAuth(),
    renderer=KeepingRenderer(),
    urls_namespace="api",
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
)
errors.install(api)
for module in (
    patients,
    consultations,
    records,
    charting,
    outcomes,
    calibration,
    appointments,
    scheduling,
    recall,
    staff,
    exchange,
    integrity,
    messaging,
):
    api.add_router("/v1/", module.router)
api.add_router("/v1/", staff.public)
