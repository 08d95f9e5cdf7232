"""An admin's first log in sets up the second factor by scanning a QR code; the next log in asks
for a code. Both pages pass axe at phone and desktop widths."""

from __future__ import annotations

import re

import pytest

from tests.browser.browser_kit import (
    CODE_LABEL,
    DESKTOP,
    PHONE,
    assert_fits_width,
    assert_no_serious_a11y,
    screenshot,
    submit_login,
    totp_code,
)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"], indirect=True)
def test_an_admin_sets_up_and_then_uses_a_second_factor(page, world, viewport):
    submit_login(page, "alice")
    assert "/accounts/two-factor/setup/" in page.url
    assert page.locator("figure.qr svg").count() == 1
    assert_no_serious_a11y(page, f"two-factor-setup-{viewport['width']}")
    assert_fits_width(page)
    screenshot(page, f"two-factor-setup-{viewport['width']}")
    page.get_by_label(CODE_LABEL).fill("000000")
    page.get_by_role("button", name="Turn on").click()
    assert "did not match" in page.locator(".errorlist").inner_text()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user__username="alice").update(throttling_failure_count=0)
    page.get_by_label(CODE_LABEL).fill(totp_code("alice", confirmed=False))
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today, ")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/$"))
    submit_login(page, "alice")
    assert "/accounts/two-factor/" in page.url and "/setup/" not in page.url
    assert_no_serious_a11y(page, f"two-factor-verify-{viewport['width']}")
    assert_fits_width(page)
    # A code is accepted once: the one used to set up would be refused now. A real user waits
    # for the next one; here the device forgets which it last accepted.
    TOTPDevice.objects.filter(user__username="alice").update(last_t=-1)
    page.get_by_label(CODE_LABEL).fill(totp_code("alice", confirmed=True))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today, ")
