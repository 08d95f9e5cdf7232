"""Logging in and out through the real form in a real browser; the lock-out after 5 failures."""

from __future__ import annotations

import re

import pytest

from tests.browser.browser_kit import (
    TABLET_LANDSCAPE,
    TABLET_PORTRAIT,
    assert_fits_width,
    assert_no_serious_a11y,
    login,
    screenshot,
    submit_login,
)


@pytest.mark.parametrize(
    "viewport", [TABLET_LANDSCAPE, TABLET_PORTRAIT], ids=["landscape", "portrait"], indirect=True
)
def test_practitioner_logs_in_to_todays_dashboard(page, world, live_server):
    login(page, "pat")
    assert page.url == f"{live_server.url}/"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today, ")
    assert "Pat Practitioner" in page.locator(".who").inner_text()
    assert_no_serious_a11y(page, "dashboard")
    assert_fits_width(page)
    screenshot(page, "dashboard")


def test_skip_link_on_the_dashboard_moves_focus_to_main(page, world):
    login(page, "pat")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def test_logging_out_ends_the_session(page, world):
    login(page, "pat")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/$"))
    # The dashboard now sends the browser back to the login page.
    page.goto("/")
    assert re.search(r"/accounts/login/\?next=/$", page.url), page.url
    assert page.get_by_role("link", name="Staff log in").is_visible()


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(page, world):
    for attempt in range(1, 5):
        response = submit_login(page, "pat", f"wrong-password-{attempt}")
        assert response.status == 200
        assert "did not match" in page.get_by_role("alert").inner_text()
    fifth = submit_login(page, "pat", "wrong-password-5")
    assert fifth.status == 429
    assert page.get_by_role("heading", level=1).inner_text() == "Too many failed log-in attempts"
    assert_no_serious_a11y(page, "locked-out")
    screenshot(page, "locked-out")

    right = submit_login(page, "pat")
    assert right.status == 429
    assert page.get_by_role("heading", level=1).inner_text() == "Too many failed log-in attempts"
    page.goto("/")
    assert "/accounts/login/" in page.url, "the locked-out user was let in"
    # The lock is on that user name (from any address) and on this address (for any user name);
    # other addresses still log in to other accounts (tests/web/test_lockout.py).
    assert submit_login(page, "alice").status == 429
