"""Slot proposals and the recall worklist over the API: the same services as the web pages."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from dermis.web.clinic.scheduling import due_dates
from tests.web.test_series_booking import accepted_plan, weekday_hours


def test_proposals_cover_every_session_within_the_plans_interval(world, api_as):
    plan = accepted_plan(world.nora, world.pat)
    weekday_hours(world.pat)
    course = plan.content["courses"][0]

    response = api_as("fran").get(f"/api/v1/plans/{plan.pk}/slot-proposals", weekdays="1,3")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True
    sessions = body["proposal"]["sessions"]
    assert len(sessions) == course["sessions"]
    starts = [datetime.fromisoformat(s["start"]) for s in sessions]
    gaps = [(b.date() - a.date()).days for a, b in itertools.pairwise(starts)]
    assert all(28 <= gap <= 42 for gap in gaps), gaps
    assert all(s["practitioner_id"] == world.pat.pk for s in sessions)
    assert (
        all(start.weekday() in (1, 3) for start in starts)
        == body["proposal"]["honours_preferences"]
    )


def test_a_bad_weekday_is_a_problem_naming_the_field(world, api_as):
    plan = accepted_plan(world.nora, world.pat)
    response = api_as("pat").get(f"/api/v1/plans/{plan.pk}/slot-proposals", weekdays="1,9")
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "query.weekdays"


def test_no_working_hours_is_a_problem_naming_the_practitioner(world, api_as):
    plan = accepted_plan(world.nora, world.pat)
    response = api_as("pat").get(f"/api/v1/plans/{plan.pk}/slot-proposals")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.practitioner"


def test_the_recall_list_is_per_clinic(world, api_as):
    assert api_as("fran").get("/api/v1/recall").status_code == 200
    body = api_as("pat").get("/api/v1/recall").json()
    assert set(body) == {"maintenance", "incomplete", "follow_ups", "recomputing", "page", "more"}
    assert body["recomputing"] is None  # no parameter-set change being worked through
    plan = accepted_plan(world.nora, world.pat)
    due_dates.refresh(world.nora)  # the plan was written directly, not by the services
    incomplete = api_as("pat").get("/api/v1/recall").json()["incomplete"]
    assert [(r["patient_id"], r["plan_id"]) for r in incomplete] == [(world.nora.pk, plan.pk)]
    assert api_as("oscar").get("/api/v1/recall").json()["incomplete"] == []
    assert all(isinstance(date.fromisoformat(r["last"] or "2000-01-01"), date) for r in incomplete)
