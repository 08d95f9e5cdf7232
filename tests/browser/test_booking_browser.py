"""The booking flow in a real browser: a practitioner books a 4-session series in one step, moves
session 2 later and confirms the shift of the sessions after it; axe-core on every page."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dermis.web.clinic.models import Appointment, Equipment, Room
from tests.browser.browser_kit import (
    TABLET_LANDSCAPE,
    TABLET_PORTRAIT,
    assert_fits_width,
    assert_no_serious_a11y,
    login,
    screenshot,
)
from tests.web.test_series_booking import accepted_plan, weekday_hours

LOW, HIGH = 28, 42


@pytest.fixture
def plan(world):
    weekday_hours(world.pat)
    location = world.northgate.locations.get()
    Room.objects.create(clinic=world.northgate, location=location, name="Treatment 1")
    Equipment.objects.create(clinic=world.northgate, name="Pen A", device="automated_pen")
    return accepted_plan(world.nora, world.pat)


def _series(world) -> list[Appointment]:
    booked = Appointment.objects.filter(patient=world.nora, status=Appointment.Status.BOOKED)
    return list(booked.order_by("start"))


def _gaps(appointments) -> list[int]:
    days = [timezone.localtime(a.start).date() for a in appointments]
    return [(b - a).days for a, b in itertools.pairwise(days)]


@pytest.mark.parametrize(
    "viewport", [TABLET_LANDSCAPE, TABLET_PORTRAIT], ids=["landscape", "portrait"], indirect=True
)
def test_book_a_series_in_one_step_then_move_session_2(page, world, plan, viewport):
    login(page, "pat")
    page.goto(f"/plans/{plan.pk}/book/")
    assert page.get_by_role("heading", level=1).inner_text() == "Book the series: Nora Quinn"
    proposed = page.get_by_role("region", name="Proposed series")
    assert proposed.get_by_role("row").count() == 5  # a header and 4 sessions
    assert_no_serious_a11y(page, "series-propose")
    assert_fits_width(page)
    screenshot(page, "series-propose")

    proposed.get_by_role("button", name=re.compile(r"^Book these 4 sessions")).click()
    page.wait_for_url(re.compile(rf"/patients/{world.nora.pk}/$"))
    assert "4 sessions booked" in page.get_by_role("status").inner_text()
    booked = _series(world)
    assert len(booked) == 4 and len({a.series_key for a in booked}) == 1
    assert all(LOW <= gap <= HIGH for gap in _gaps(booked))

    second = booked[1]
    page.goto(f"/appointments/{second.pk}/reschedule/")
    assert_no_serious_a11y(page, "reschedule")
    assert_fits_width(page)
    screenshot(page, "reschedule")
    new_start = timezone.localtime(second.start + timedelta(days=14))
    page.get_by_label("New date").fill(new_start.date().isoformat())
    page.get_by_label("New time").fill(new_start.strftime("%H:%M"))
    page.get_by_role("button", name="Check this time").click()
    preview = page.get_by_role("region", name="What the move does")
    assert "Session 3 would be 14 days after session 2" in preview.inner_text()
    assert_no_serious_a11y(page, "reschedule-preview")
    assert_fits_width(page)
    screenshot(page, "reschedule-preview")

    preview.get_by_role("button", name="Move these 3 sessions").click()
    page.wait_for_url(re.compile(rf"/patients/{world.nora.pk}/$"))
    assert "2 later sessions shifted" in page.get_by_role("status").inner_text()
    after = _series(world)
    assert after[0].start == booked[0].start and after[1].start == new_start
    assert all(LOW <= gap <= HIGH for gap in _gaps(after)), _gaps(after)


def test_availability_and_recall_pages_are_accessible(page, world, plan):
    from dermis.web.clinic.scheduling import due_dates
    from tests.web.test_recall_worklist import forecast_patient

    forecast_patient(world, due_in=20)  # a maintenance row with a forecast sparkline
    due_dates.refresh(world.nora)  # her plan (the `plan` fixture) was written directly
    login(page, "alice")
    page.goto("/schedule/availability/")
    page.get_by_role("link", name="Change the weekly hours of Pat Practitioner").click()
    page.wait_for_url(re.compile(r"\?edit=\d+"))  # one practitioner's hours form, opened
    assert page.get_by_role("button", name="Save the hours of Pat Practitioner").is_visible()
    assert_no_serious_a11y(page, "availability")
    assert_fits_width(page)
    screenshot(page, "availability")
    # A form error: the summary at the top names the field and links to it.
    page.get_by_text("Add time off for Pat Practitioner").click()
    form = page.locator(f"#staff-{world.pat.pk}")
    form.get_by_label("Off from").fill("2030-01-02T10:00")
    form.get_by_label("Back at").fill("2030-01-01T10:00")
    form.get_by_role("button", name="Add time off").click()
    summary = page.get_by_role("alert")
    assert "Back at: must be after the start" in summary.inner_text()
    summary.get_by_role("link").click()
    assert page.evaluate("() => document.activeElement.name") == f"off-{world.pat.pk}-end"
    assert_no_serious_a11y(page, "availability-error")
    page.goto("/recall/")
    assert page.get_by_role("heading", level=1).inner_text() == "Recall worklist"
    assert page.get_by_role("link", name=re.compile("^Book")).count() == 1  # Nora's series
    maintenance = page.get_by_role("region", name="Due for maintenance")
    assert maintenance.get_by_role("img").count() == 1  # Fiona's sparkline, described
    assert "Forecast of improvement" in maintenance.get_by_role("img").get_attribute("aria-label")
    assert_no_serious_a11y(page, "recall")
    assert_fits_width(page)
    screenshot(page, "recall")
