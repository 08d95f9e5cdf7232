"""Schemathesis over /api/openapi.json: no 5xx, every response as the schema documents it.

Bounded (a few examples per operation, derandomised) so the whole run stays near a minute.
Two identities: a practitioner (the brief's persona) and the clinic admin, who alone reaches
the import, export, erasure and merge operations.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.api_records import journey

EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class DjangoApp:
    """Django's WSGI app that leaves the test's database connection open, as the test client
    does: closing it mid-test would end the transaction each test runs in."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            body = b"".join(response)
            response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return [body]


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", DjangoApp())


@pytest.fixture
def record(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return journey(world.nora, world.pat, settings.PHOTO_ROOT)


def _aim(case, record) -> None:
    """Point half of the generated ids at real records, so bodies reach the core and booking
    instead of stopping at a 404."""
    real = {
        "patient_id": record.consultation.patient_id,
        "consultation_id": record.consultation.pk,
        "plan_id": record.plan.pk,
        "session_id": record.session.pk,
        "appointment_id": record.appointment.pk,
        "practitioner_id": record.session.practitioner_id,
    }
    for params in (case.path_parameters, case.body if isinstance(case.body, dict) else None):
        for name, pk in real.items():
            if params and isinstance(params.get(name), int) and params[name] % 2 == 0:
                params[name] = pk


def _fuzz(case, token: str, record) -> None:
    _aim(case, record)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_as_a_practitioner(case, token_for, record):
    _fuzz(case, token_for("pat"), record)


@pytest.mark.slow
@schema.include(path_regex="import|erase|exports|subject-access|merge").parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_admin_only_operations_as_the_admin(case, token_for, record):
    _fuzz(case, token_for("alice"), record)
