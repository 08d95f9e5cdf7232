"""The delivery page, the waitlist pages and the appointment-reply link page in a real browser:
axe-clean at phone and tablet width, and "send again" works from the keyboard."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dermis.web.clinic.models import Reminder
from dermis.web.clinic.waitlist import links
from dermis.web.clinic.waitlist import services as waitlist
from tests import factories
from tests.browser.browser_kit import (
    TABLET_LANDSCAPE,
    assert_fits_width,
    assert_no_serious_a11y,
    login,
    screenshot,
)

WIDTHS = pytest.mark.parametrize(
    "viewport",
    [{"width": 390, "height": 844}, TABLET_LANDSCAPE],
    ids=["phone", "tablet"],
    indirect=True,
)


@WIDTHS
def test_delivery_and_waitlist_pages(page, world, viewport):
    row = Reminder.objects.create(
        key="failed",
        patient=world.nora,
        kind="recall",
        status="failed",
        due_at=timezone.now(),
        attempts=1,
        last_error="SMTPRecipientsRefused 550",
    )
    waitlist.add_entry(factories.actor(world.fran), world.nora)
    login(page, "fran")
    page.goto("/")
    page.get_by_role("link", name="See why and send again").click()
    assert "SMTPRecipientsRefused 550" in page.get_by_role("main").inner_text()
    assert_no_serious_a11y(page, "reminder-delivery")
    assert_fits_width(page)
    screenshot(page, "reminder-delivery")

    page.get_by_role("button", name="Send again to Nora Quinn").focus()
    page.keyboard.press("Enter")
    page.get_by_text("will be sent again").wait_for()
    row.refresh_from_db()
    assert row.status == "pending"

    for path, name in [
        ("/waitlist/", "waitlist"),
        (f"/patients/{world.nora.pk}/waitlist/", "waitlist-add"),
    ]:
        page.goto(path)
        assert_no_serious_a11y(page, name)
        assert_fits_width(page)
        screenshot(page, name)


@WIDTHS
def test_the_reply_page(page, world, viewport):
    factories.working_hours(world.pat)
    appt = factories.appointment(world.pat, world.nora, factories.next_weekday_at(10, 4))
    page.goto(f"/reply/{links.confirm_token(appt)}/")
    assert_no_serious_a11y(page, "appointment-reply")
    assert_fits_width(page)
    page.get_by_role("button", name="Confirm I am coming").click()
    page.get_by_text("is confirmed").wait_for()
    assert_no_serious_a11y(page, "appointment-reply-confirmed")
    screenshot(page, "appointment-reply-confirmed")
