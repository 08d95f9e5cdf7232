"""The clinic admin's portal settings page in a real browser, at phone and desktop width, with
axe-core: a refused day is named beside its field, a saved choice shows on the page."""

from __future__ import annotations

import pytest

from dermis.web.clinic.portal import selectors
from tests.browser.browser_kit import (
    DESKTOP,
    PHONE,
    assert_fits_width,
    assert_no_serious_a11y,
    login,
    screenshot,
)

pytestmark = pytest.mark.usefixtures("generous_timeouts")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"], indirect=True)
def test_an_admin_chooses_the_check_in_days(page, world, viewport):
    login(page, "alice")
    page.goto("/")
    page.get_by_role("link", name="Portal settings").click()
    page.wait_for_url("**/settings/portal/")
    assert page.get_by_label("Check-in days").input_value() == "1, 3"
    assert_no_serious_a11y(page, "portal settings")
    assert_fits_width(page)
    screenshot(page, "portal-settings")

    page.get_by_label("Check-in days").fill("1, 3, 21")
    page.get_by_role("button", name="Save the portal settings").click()
    error = page.locator(".has-error")
    assert "Each day must be from 1 to 14 after the session." in error.inner_text()
    assert_no_serious_a11y(page, "portal settings, refused")
    assert_fits_width(page)

    page.get_by_label("Check-in days").fill("1, 3, 7")
    page.get_by_label("Out-of-hours advice").fill("Ring Dr Pat on 07700 900111.")
    page.get_by_label("Off: nobody can sign in").check()
    page.get_by_role("button", name="Save the portal settings").click()
    page.get_by_text("Portal settings saved.").wait_for()
    assert page.get_by_label("Check-in days").input_value() == "1, 3, 7"
    assert page.get_by_label("Off: nobody can sign in").is_checked()
    assert_no_serious_a11y(page, "portal settings, saved")
    assert selectors.checkin_days(world.northgate) == (1, 3, 7)
    assert not selectors.portal_enabled(world.northgate)
