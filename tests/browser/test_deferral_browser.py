"""The isotretinoin case in a real browser: a patient whose screening defers microneedling until
six months after the last dose is offered the series from that day, and a session charted today
is refused with the date and its source; the API answers the same with a 422 naming the date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dermis.core.screening import Screening
from tests import factories
from tests.browser.browser_kit import assert_no_serious_a11y, login, screenshot


@pytest.fixture
def deferred(world):
    factories.working_hours(world.pat)
    last_dose = timezone.localdate() - timedelta(days=122)  # about four months ago
    intake = {"isotretinoin_last_dose": last_dose.isoformat()}
    plan = factories.accepted_plan(world.pat, world.nora, intake=intake)
    screening = Screening.from_dict(plan.consultation.screening)
    until = next(
        f.until for f in screening.findings if f.rule.startswith("isotretinoin") and f.until
    )
    return plan, until


def test_the_series_starts_when_the_deferral_ends_and_charting_today_is_refused(
    page, world, deferred
):
    plan, until = deferred
    assert until > timezone.localdate() + timedelta(days=14)
    login(page, "pat")

    page.goto(f"/plans/{plan.pk}/book/")
    proposed = page.get_by_role("region", name="Proposed series")
    first = proposed.get_by_role("row").nth(1).inner_text()
    # The plan's earliest start is the day the deferral ends: the series is offered from then.
    assert f"{until:%a} {until.day} {until:%b %Y}" in first, first
    assert f"First date from {until:%d %b %Y}" in first, first
    assert_no_serious_a11y(page, "deferral-series")
    screenshot(page, "deferral-series")

    page.goto(f"/patients/{world.nora.pk}/sessions/new/")
    page.get_by_label("Lot number").fill("LOT-1")
    page.get_by_label("Pre-care was done").check()
    page.get_by_role("button", name="Save draft").click()
    summary = page.get_by_role("alert")
    text = summary.inner_text()
    assert until.isoformat() in text and "source:" in text, text
    assert_no_serious_a11y(page, "deferral-chart-refused")
    screenshot(page, "deferral-chart-refused")
    assert not world.nora.sessions.exists()


def test_the_api_refuses_the_same_session_naming_the_date(world, deferred, api_as):
    _, until = deferred
    now = timezone.localtime().replace(second=0, microsecond=0)
    body = {
        "modality": "microneedling", "performed_at": now.isoformat(), "device": "automated_pen",
        "precare_done": True, "areas": [{"area": "cheeks", "depth_mm": 1.0}],
    }  # fmt: skip
    response = api_as("pat").post(f"/api/v1/patients/{world.nora.pk}/sessions", body)
    assert response.status_code == 422
    problem = response.json()
    assert until.isoformat() in problem["detail"]
    assert problem["errors"][0]["possible_from"] == until.isoformat()
