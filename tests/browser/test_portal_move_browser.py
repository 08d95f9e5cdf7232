"""The patient moves an appointment in a real browser, at phone size and on a desktop: from their
plan to the move page, a free time chosen, the new time on the plan and the home page; axe-core
finds nothing serious on either page. The phone run makes docs/screenshots/portal-move.png
(`make screenshots`)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.reminders import delivery
from tests import factories
from tests.browser.browser_kit import (
    DESKTOP,
    PHONE,
    assert_fits_width,
    assert_no_serious_a11y,
    docs_screenshot,
)

pytestmark = pytest.mark.usefixtures("generous_timeouts")


def sign_in(page) -> None:
    page.goto("/my/sign-in/")
    page.get_by_label("Your email address").fill("nora@example.org")
    page.get_by_role("button", name="Email me a link").click()
    page.wait_for_url("**/my/sign-in/sent/")
    delivery.run_round()  # the worker sends the link
    link = re.search(r"https?://[^/\s]+(/my/sign-in/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/my/")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"], indirect=True)
def test_the_patient_moves_an_appointment(page, world, viewport):
    factories.working_hours(world.pat)
    world.northgate.phone = "0113 496 0000"
    world.northgate.save()
    with clock.frozen_at(timezone.now()):
        appointment = factories.appointment(
            world.pat, world.nora, factories.next_weekday_at(10, days_ahead=6)
        )
        soon = factories.soon_within_hours()  # inside the notice period
        factories.appointment(world.pat, world.nora, soon)
    sign_in(page)

    page.goto("/my/plan/")
    assert "please call Northgate Skin Clinic on 0113 496 0000" in page.locator("main").inner_text()
    page.get_by_role("link", name="Move this appointment").click()
    page.wait_for_url(f"**/my/appointments/{appointment.pk}/move/")
    assert page.get_by_role("heading", name="Move your appointment").is_visible()
    assert_no_serious_a11y(page, "portal-move")
    assert_fits_width(page)
    if viewport == PHONE:
        docs_screenshot(page, "portal-move.png")

    page.get_by_role("link", name="Later times").click()
    page.wait_for_url(re.compile(r"/move/\?from=\d{4}-\d\d-\d\d$"))
    assert_no_serious_a11y(page, "portal-move-later")
    choice = page.locator("input[name=start]").nth(1)
    chosen = timezone.datetime.fromisoformat(choice.get_attribute("value"))
    choice.check()
    page.get_by_role("button", name="Move my appointment").click()
    page.wait_for_url("**/my/plan/")

    appointment.refresh_from_db()
    assert appointment.start == chosen
    new = timezone.localtime(chosen)
    shown = f"{new:%A} {new.day} {new:%B %Y}, {new:%H:%M}"
    main = page.locator("main").inner_text()
    assert "Your appointment is moved to" in page.content() and shown in main
    assert_no_serious_a11y(page, "portal-plan-moved")
    page.goto("/my/")
    assert shown in page.locator("main").inner_text()
