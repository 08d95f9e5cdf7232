"""The same input through the web form and the API: the same outcome (both accept, or both refuse
naming the same field with the same words), for grades, charting a draft and finalising."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.models import FollowUpGrade, TreatmentSession
from tests import factories

PERFORMED = None  # set per test: an hour ago, clinic time


def _norm(message: str) -> str:
    """A page's sentence and the API's message compare equal: no capital, no full stop."""
    message = message.strip().rstrip(".")
    return message[:1].lower() + message[1:]


def _web_outcome(response, aliases: dict[str, str]) -> tuple:
    if response.status_code == 302:
        return ("ok",)
    form = response.context["form"]
    field, messages = next(iter(form.errors.items()))
    return ("refused", aliases.get(field, field), _norm(messages[0]))


def _api_outcome(response) -> tuple:
    if response.status_code in (200, 201):
        return ("ok",)
    assert response.status_code == 422, response.content
    error = response.json()["errors"][0]
    return ("refused", error["field"].removeprefix("body."), _norm(error["message"]))


# --- Grades ---------------------------------------------------------------------------------

GRADE_CASES = {
    "ok": ({}, ("ok",)),
    "off the scale": ({"grade": 7}, ("refused", "grade")),
    "in the future": ({"graded_on": "tomorrow"}, ("refused", "graded_on")),
}


@pytest.mark.parametrize("case", GRADE_CASES, ids=str)
def test_a_grade_through_the_page_and_the_api(case, world, client_as, api_as):
    factories.accepted_plan(world.pat, world.nora)
    change, expected = GRADE_CASES[case]
    body = {"area": "cheeks", "concern": "acne_scars_rolling", "grade": 2, "baseline": 3}
    body |= {"graded_on": timezone.localdate().isoformat(), **change}
    if body["graded_on"] == "tomorrow":
        body["graded_on"] = (timezone.localdate() + timedelta(days=1)).isoformat()
    web = client_as("pat").post(reverse("grade-create", args=[world.nora.pk]), body)
    api = api_as("pat").post(f"/api/v1/patients/{world.nora.pk}/grades", body)
    web_outcome, api_outcome = _web_outcome(web, {}), _api_outcome(api)
    assert web_outcome == api_outcome
    assert web_outcome[: len(expected)] == expected
    assert FollowUpGrade.objects.count() == (2 if expected == ("ok",) else 0)


# --- Charting a draft -----------------------------------------------------------------------


def _chart_bodies(areas: dict[str, float]) -> tuple[dict, dict]:
    when = factories.earlier_today(minutes=5)
    web = {
        "modality": "microneedling",
        "performed_at": when.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "60",
        "device": "automated_pen",
        "cartridge": "36-pin nano",
        "endpoint": "erythema",
        "precare_done": "on",
    }
    for area, depth in areas.items():
        web |= {f"treat_{area}": "on", f"depth_{area}": str(depth), f"passes_{area}": "1"}
    api = {
        "modality": "microneedling",
        "performed_at": when.replace(second=0, microsecond=0).isoformat(),
        "device": "automated_pen",
        "cartridge": "36-pin nano",
        "endpoint": "erythema",
        "precare_done": True,
        "areas": [{"area": a, "depth_mm": d} for a, d in areas.items()],
    }
    return web, api


CHART_CASES = {
    "ok": ("screened", {"cheeks": 1.0}, ("ok",)),
    "deeper than the limit": ("screened", {"chin": 1.75}, ("refused", "areas.chin.depth_mm")),
    "inside a deferral": ("isotretinoin", {"cheeks": 1.0}, ("refused", "performed_at")),
}


@pytest.mark.parametrize("case", CHART_CASES, ids=str)
def test_a_draft_through_the_page_and_the_api(case, world, client_as, api_as):
    history, areas, expected = CHART_CASES[case]
    if history == "isotretinoin":
        factories.deferred_by_isotretinoin(world.pat, world.nora)
    else:
        factories.consultation(world.pat, world.nora)
    web_body, api_body = _chart_bodies(areas)
    web = client_as("pat").post(reverse("session-create", args=[world.nora.pk]), web_body)
    api = api_as("pat").post(f"/api/v1/patients/{world.nora.pk}/sessions", api_body)
    aliases = {f"depth_{a}": f"areas.{a}.depth_mm" for a in areas}
    web_outcome, api_outcome = _web_outcome(web, aliases), _api_outcome(api)
    assert web_outcome == api_outcome
    assert web_outcome[: len(expected)] == expected
    assert TreatmentSession.objects.count() == (2 if expected == ("ok",) else 0)


# --- Finalising -----------------------------------------------------------------------------


@pytest.mark.parametrize("lot_number", ["LOT-7", ""], ids=["ok", "no lot number"])
def test_finalising_through_the_page_and_the_api(lot_number, world, client_as, api_as):
    # two patients: a second session of one patient on the same day is refused (the interval)
    other = factories.patient(world.pat)
    by = {}
    for who in (world.nora, other):
        factories.consultation(world.pat, who)
        by[who.pk] = factories.session(world.pat, who, lot_number=lot_number)
    by_web, by_api = by[world.nora.pk], by[other.pk]
    web = client_as("pat").post(
        reverse("session-finalise", args=[by_web.pk]), factories.finalise_form(by_web)
    )
    api = api_as("pat").post(
        f"/api/v1/sessions/{by_api.pk}/finalise",
        {"version": factories.finalise_form(by_api)["version"]},
    )
    if lot_number:
        assert web.status_code == 302 and api.status_code == 200
        assert {s.status for s in TreatmentSession.objects.all()} == {"final"}
        return
    assert web.status_code == 400 and api.status_code == 422
    ((_, web_message),) = web.context["problems"]
    error = api.json()["errors"][0]
    assert error["field"] == "body.lot_number"
    assert (
        _norm(web_message)
        == _norm(error["message"])
        == ("is required to finalise (the cartridge or tip lot)")
    )
    assert not TreatmentSession.objects.filter(status="final").exists()
