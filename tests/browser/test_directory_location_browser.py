"""From the public directory to a location's page to a booked consultation, in a real browser at
phone and desktop width, axe-core on every page: the booking is made at that location, and the
patient's answers are explained in plain words."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dermis.web.clinic.models import Patient
from tests import factories
from tests.browser.browser_kit import (
    DESKTOP,
    PHONE,
    check,
    docs_screenshot,
)

pytestmark = pytest.mark.usefixtures("generous_timeouts")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"], indirect=True)
def test_from_the_directory_to_a_consultation_at_a_location(page, world, viewport):
    factories.working_hours(world.pat)
    world.northgate.phone = "0113 496 0000"
    world.northgate.save()
    main = world.northgate.locations.get()

    page.goto("/directory/")
    page.get_by_role("link", name="Main, Leeds LS1 4AP").click()
    page.wait_for_url(re.compile(r"/directory/locations/\d+/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Northgate Skin Clinic, Main"
    assert "0113 496 0000" in page.locator("main").inner_text()
    check(page, "directory-location")
    if viewport == PHONE:
        docs_screenshot(page, "directory-location.png")

    page.get_by_role("link", name="Book a consultation").click()
    page.wait_for_url(re.compile(r"/my/book/location/\d+/$"))
    page.get_by_label("Practitioner", exact=True).select_option(label="Pat Practitioner")
    page.get_by_role("button", name="Show their times").click()
    page.wait_for_url(re.compile(r"/my/book/location/\d+/\?practitioner=\d+$"))
    check(page, "portal-book-location")
    first = page.locator("input[name=slot]").first
    label = page.locator(f"label[for={first.get_attribute('id')}]").inner_text()
    assert label.endswith("with Pat Practitioner")
    first.check()
    page.get_by_label("First name").fill("Iris")
    page.get_by_label("Last name").fill("Newton")
    page.get_by_label("Date of birth").fill("1990-04-02")
    page.get_by_label("Email").fill("iris@example.org")
    page.get_by_label("Mobile phone").fill("07700 900555")
    page.get_by_label("Which treatment are you interested in?").select_option("microneedling")
    page.get_by_role("group", name=re.compile("isotretinoin")).get_by_label(
        "Yes, in the past"
    ).check()
    last_dose = timezone.localdate() - timedelta(days=61)
    page.get_by_label("When was your last dose?").fill(last_dose.isoformat())
    page.get_by_role("button", name="Book my consultation").click()
    page.wait_for_url("**/my/booked/")
    heading = page.get_by_role("heading", name=re.compile("We can't offer microneedling before"))
    assert heading.is_visible()
    check(page, "portal-booked-location")

    appointment = Patient.objects.get(email="iris@example.org").appointments.get()
    assert appointment.location == main
    assert appointment.practitioner == world.pat
    assert appointment.kind == "consultation"
