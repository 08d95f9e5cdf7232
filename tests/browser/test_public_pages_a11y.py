"""Pages anyone may open, in a real browser: accessible, fitting a tablet, keyboard-usable."""

from __future__ import annotations

import pytest

from tests.browser.browser_kit import (
    TABLET_LANDSCAPE,
    TABLET_PORTRAIT,
    assert_fits_width,
    assert_no_serious_a11y,
    screenshot,
    submit_login,
)

TABLETS = pytest.mark.parametrize(
    "viewport", [TABLET_LANDSCAPE, TABLET_PORTRAIT], ids=["landscape", "portrait"], indirect=True
)


@TABLETS
def test_login_page_is_accessible(page):
    page.goto("/accounts/login/")
    assert page.get_by_role("heading", level=1).inner_text() == "Staff log in"
    # The form's own autofocus: staff can type their name straight away.
    assert page.evaluate("() => document.activeElement.id") == "id_username"
    assert_no_serious_a11y(page, "login")
    assert_fits_width(page)
    screenshot(page, "login")


def test_login_error_is_announced_and_accessible(page, world):
    submit_login(page, "pat", "not-the-password")
    alert = page.get_by_role("alert")
    assert "did not match" in alert.inner_text()
    # What was typed is kept, so only the password needs typing again.
    assert page.get_by_label("User name").input_value() == "pat"
    assert_no_serious_a11y(page, "login-error")
    screenshot(page, "login-error")


@TABLETS
def test_directory_is_accessible(page, world):
    response = page.goto("/directory/")
    assert response is not None
    assert response.status == 200
    assert_no_serious_a11y(page, "directory")
    assert_fits_width(page)
    screenshot(page, "directory")


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page, world):
    # The directory, not the login page: the login form's autofocus starts focus in the form.
    page.goto("/directory/")
    skip_link = page.get_by_role("link", name="Skip to content")
    # Off-screen until focused, so sighted mouse users do not see it.
    assert skip_link.bounding_box()["x"] < 0
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.className, document.activeElement.textContent.trim()]"
    )
    assert focused == ["skip-link", "Skip to content"]
    # Once focused it must be on screen to be of any use.
    box = skip_link.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
