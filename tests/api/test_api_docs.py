"""OpenAPI document and docs page: public, offline, and every error documented as a problem."""

from __future__ import annotations

import re

from django.test import Client


def test_openapi_lists_the_v1_operations_with_bearer_auth(db):
    schema = Client().get("/api/openapi.json").json()

    assert schema["openapi"].startswith("3.")
    assert "/api/v1/patients/{patient_id}/fhir" in schema["paths"]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/directory"]["get"]["security"] == []  # open to anyone


def test_every_error_response_is_problem_json(db):
    schema = Client().get("/api/openapi.json").json()

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert "422" in operation["responses"] or "{" not in path, (method, path)
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (path, code)


def test_docs_page_loads_nothing_from_another_host(db):
    response = Client().get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "validatorUrl" in html and '"validatorUrl": null' in html


def test_docs_static_files_are_shipped(db):
    from django.contrib.staticfiles import finders

    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css", "ninja/swagger-ui-init.js"):
        assert finders.find(name), name


def _models_in(annotation) -> set[type]:
    """The pydantic models an annotation names, at any depth (lists, unions, generics, fields)."""
    from typing import get_args

    from pydantic import BaseModel

    found: set[type] = set()
    stack = [annotation]
    while stack:
        item = stack.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item not in found:
                found.add(item)
                stack.extend(f.annotation for f in item.model_fields.values())
        else:
            stack.extend(get_args(item))
    return found


def test_every_response_body_is_checked_by_pydantic_itself():
    """Response bodies are `Out` models: ninja's `Schema` wraps each record of a page in a getter
    before checking it (ten times slower for a page of patients). Request bodies keep `Schema`."""
    from ninja import Schema

    from dermis.web.api.api import api
    from dermis.web.api.schemas import Out, PatientOut

    bodies: set[type] = set()
    for _prefix, router in api._routers:
        for view in router.path_operations.values():
            for operation in view.operations:
                for wrapper in (operation.response_models or {}).values():
                    fields = getattr(wrapper, "model_fields", {})  # none: no body
                    if "response" in fields:  # ninja's own wrapper is a Schema: what it holds
                        bodies |= _models_in(fields["response"].annotation)

    assert PatientOut in bodies and len(bodies) > 30
    slow = sorted(m.__name__ for m in bodies if issubclass(m, Schema) or not issubclass(m, Out))
    assert slow == []
