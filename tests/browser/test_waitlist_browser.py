"""A cancelled slot goes to the waitlist: the worker e-mails the offer, the patient opens the
link (no login) and accepts it, and the front desk sees the booking on the patient's record.
axe-core on the patient's pages at phone and tablet width."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone

from dermis.web.clinic.models import Appointment, WaitlistEntry
from dermis.web.clinic.reminders import delivery
from dermis.web.clinic.scheduling import services as scheduling
from dermis.web.clinic.waitlist import services as waitlist
from tests import factories
from tests.browser.browser_kit import (
    PHONE,
    TABLET_LANDSCAPE,
    assert_fits_width,
    assert_no_serious_a11y,
    login,
    screenshot,
)


@pytest.mark.parametrize(
    "viewport", [PHONE, TABLET_LANDSCAPE], ids=["phone", "tablet"], indirect=True
)
def test_accepting_a_waitlist_offer_through_the_link(page, world, live_server, settings, viewport):
    settings.SITE_URL = live_server.url
    factories.working_hours(world.pat)
    start = factories.next_weekday_at(10, days_ahead=3)
    freed = factories.appointment(world.pat, world.nora, start, by=world.fran)
    ada = factories.patient(world.fran, given="Ada", email="ada@example.org")
    waitlist.add_entry(factories.actor(world.fran), ada, kind=Appointment.Kind.CONSULTATION)

    scheduling.cancel_appointment(factories.actor(world.fran), freed, "asked")  # offers on commit
    assert delivery.run_round()["sent"] == 1  # the worker sends the offer

    (message,) = mail.outbox
    assert message.to == ["ada@example.org"]
    (link,) = re.findall(rf"{re.escape(live_server.url)}/offer/\S+/", message.body)
    page.goto(link)
    when = f"{timezone.localtime(start):%A %-d %B %Y} at 10:00"
    assert when in page.get_by_role("main").inner_text()
    assert_no_serious_a11y(page, "waitlist-offer")
    assert_fits_width(page)
    screenshot(page, "waitlist-offer")

    page.get_by_role("button", name="Accept this appointment").click()

    page.get_by_text("It is yours").wait_for()
    assert_no_serious_a11y(page, "waitlist-offer-accepted")
    screenshot(page, "waitlist-offer-accepted")
    booked = Appointment.objects.get(patient=ada)
    assert (booked.start, booked.status) == (start, "booked")
    assert WaitlistEntry.objects.get(patient=ada).status == "booked"

    staff = page.context.browser.new_context(base_url=live_server.url, viewport=viewport)
    try:
        desk = staff.new_page()
        login(desk, "fran")
        desk.goto(f"/patients/{ada.pk}/")
        appointments = desk.get_by_role("region", name="Appointments")
        assert f"{timezone.localtime(start):%a %-d %b %Y}, 10:00" in appointments.inner_text()
        assert "Booked" in appointments.inner_text()
    finally:
        staff.close()
