"""The front desk works a recall row in a real browser: logs a call, proposes free slots, books
the one the patient chose; the worklist and the patient's recall page pass axe at phone and
desktop width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dermis.web.clinic.models import Appointment, RecallContact
from tests.browser.browser_kit import (
    DESKTOP,
    PHONE,
    assert_fits_width,
    assert_no_serious_a11y,
    login,
    screenshot,
)


@pytest.fixture
def fiona(world):
    from tests.web.test_recall_worklist import forecast_patient
    from tests.web.test_series_booking import weekday_hours

    weekday_hours(world.pat)
    patient, _ = forecast_patient(world, due_in=20)
    patient.phone = "07700 900111"
    patient.save()
    return patient


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], indirect=True, ids=["phone", "desktop"])
def test_front_desk_logs_a_call_proposes_and_books_the_chosen_slot(page, world, fiona, viewport):
    login(page, "fran")
    page.goto("/recall/")
    maintenance = page.get_by_role("region", name="Due for maintenance")
    assert "07700 900111" in maintenance.inner_text()
    assert maintenance.get_by_role("img").count() == 0  # no forecast for the front desk
    assert_no_serious_a11y(page, "recall-front-desk")
    assert_fits_width(page)
    screenshot(page, "recall-front-desk")

    maintenance.get_by_role("link", name=re.compile("Work Fiona Example")).click()
    page.wait_for_url(re.compile(rf"/recall/{fiona.pk}/"))
    page.get_by_label("No answer").check()
    page.get_by_label("Note").fill("rang at 10, try after 5")
    page.get_by_role("button", name="Log", exact=True).click()
    assert "Logged for Fiona Example: no answer." in page.get_by_role("status").inner_text()
    assert RecallContact.objects.get(patient=fiona).outcome == "no_answer"

    page.get_by_role("link", name="Propose maintenance slots").click()
    page.wait_for_url(re.compile(r"propose=maintenance"))
    offers = page.get_by_role("region", name="Free slots to offer")
    buttons = offers.get_by_role("button", name=re.compile("^Book "))
    expect(buttons.nth(1)).to_be_visible()  # at least two offers, once the page has loaded
    assert not Appointment.objects.filter(patient=fiona).exists()  # offering books nothing
    assert_no_serious_a11y(page, "recall-patient")
    assert_fits_width(page)
    screenshot(page, "recall-patient")
    chosen = buttons.nth(1).inner_text().removeprefix("Book ")
    buttons.nth(1).click()
    page.wait_for_url(re.compile(r"/recall/$"))
    assert "Maintenance booked for Fiona Example" in page.get_by_role("status").inner_text()
    made = Appointment.objects.get(patient=fiona)
    assert made.kind == "maintenance"
    from django.utils import timezone

    assert f"{timezone.localtime(made.start):%a %-d %b %Y, %H:%M}" == chosen
    assert (
        "Fiona Example" not in page.get_by_role("region", name="Due for maintenance").inner_text()
    )
