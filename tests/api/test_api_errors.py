"""An unexpected failure is a 500 problem document; neither it nor the log quotes patient data."""

from __future__ import annotations

import json
import logging

import pytest

from dermis.web.api.routers import patients


def test_an_unexpected_error_is_a_bare_500_problem(world, api_as, monkeypatch, caplog):
    def broken(patient, staff):
        raise RuntimeError(f"cannot render {patient.full_name}")

    monkeypatch.setattr(patients, "patient_out", broken)

    with caplog.at_level(logging.ERROR):
        response = api_as("pat").get(f"/api/v1/patients/{world.nora.pk}")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    body = response.content.decode()
    assert "Nora" not in body and "Traceback" not in body
    assert response.json()["status"] == 500
    assert "RuntimeError" in caplog.text and "Nora" not in caplog.text


def test_an_unknown_api_address_is_a_problem_document(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


@pytest.mark.parametrize("value", ["0", "1700000000", "2025-13-01", "1850-01-01"])
def test_date_query_parameters_take_only_iso_dates_in_range(world, api_as, value):
    api = api_as("pat")

    answers = [
        api.get("/api/v1/patients", date_of_birth=value),
        api.get("/api/v1/appointments", date_from=value),
        api.get("/api/v1/appointments", date_to=value),
    ]

    for response in answers:
        assert response.status_code == 422, response.content
        assert response.json()["errors"][0]["field"].startswith("query.")


def test_a_unix_time_is_not_a_date_in_a_body_either(world, api_as):
    body = {"given_name": "Ada", "family_name": "Byron", "date_of_birth": 0}

    response = api_as("pat").post("/api/v1/patients", body)

    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "body.date_of_birth",
        "message": "must be an ISO 8601 date (YYYY-MM-DD)",
    }


def test_openapi_states_the_date_range(world, client_as):
    schema = client_as("anonymous").get("/api/openapi.json").json()
    params = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/appointments"]["get"]["parameters"]
    }

    date_from = params["date_from"]
    text = str(date_from)
    assert "1900-01-01" in text and "2200-12-31" in text


def test_a_method_an_address_does_not_take_is_a_405_problem(world, api_as):
    pat = api_as("pat")
    response = pat.delete(f"/api/v1/patients/{world.nora.pk}")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}
    body = response.json()
    assert body["status"] == 405 and "DELETE" in body["detail"]


def test_an_error_made_outside_the_api_views_is_a_problem_too(rf):
    from django.http import HttpResponseBadRequest, HttpResponseServerError

    from dermis.web.api.middleware import ApiProblemMiddleware

    for made in (HttpResponseBadRequest("<h1>Bad Request (400)</h1>"), HttpResponseServerError()):
        answer = ApiProblemMiddleware(lambda request, made=made: made)
        response = answer(rf.get("/api/v1/patients"))
        assert response["Content-Type"] == "application/problem+json"
        assert json.loads(response.content)["status"] == made.status_code
        assert b"<h1>" not in response.content
        page = answer(rf.get("/patients/"))
        assert page is made  # the web pages keep their HTML error pages
