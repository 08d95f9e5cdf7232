"""A duplicate in a real browser: front desk registering Nora again sees her record listed and
must confirm; the admin merges the second record into the first and its old address leads there.
axe-core on each page, at phone and desktop width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dermis.web.clinic.models import Patient
from tests.browser.browser_kit import (
    DESKTOP,
    PHONE,
    assert_fits_width,
    assert_no_serious_a11y,
    login,
    screenshot,
)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"], indirect=True)
def test_register_a_duplicate_then_merge_it(page, world, viewport):
    size = "phone" if viewport["width"] < 500 else "desktop"
    login(page, "fran")
    page.goto("/patients/new/")
    page.get_by_label("Given name").fill("Nóra")
    page.get_by_label("Family name").fill("QUINN")
    page.get_by_label("Date of birth").fill("1985-03-14")
    page.get_by_role("button", name="Register").click()
    group = page.get_by_role("group", name="Already registered?")
    expect(group.get_by_role("link", name="Quinn, Nora")).to_be_visible()
    assert Patient.objects.count() == 2  # Nora and Rhys only: nothing saved yet
    assert_no_serious_a11y(page, f"duplicate-warning-{size}")
    assert_fits_width(page)
    screenshot(page, f"duplicate-warning-{size}")
    page.get_by_label("This is a different person: register anyway").check()
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    second = Patient.objects.latest("pk")

    page.context.clear_cookies()
    login(page, "alice")
    page.goto(f"/patients/{world.nora.pk}/")
    page.get_by_role("link", name="Merge a duplicate into this record").click()
    assert_no_serious_a11y(page, f"merge-{size}")
    assert_fits_width(page)
    page.get_by_label("Patient id of the duplicate").fill(str(second.pk))
    page.get_by_label("I have checked that both records are the same person").check()
    screenshot(page, f"merge-{size}")
    page.get_by_role("button", name="Merge into this record").click()
    page.wait_for_url(re.compile(rf"/patients/{world.nora.pk}/$"))
    expect(page.get_by_text(f"Patient {second.pk} merged into this record.")).to_be_visible()
    page.goto(f"/patients/{second.pk}/")
    assert page.url.endswith(f"/patients/{world.nora.pk}/")
