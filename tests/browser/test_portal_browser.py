"""The patient portal in a real browser at phone size (390x844), axe-core on every page: a new
patient books a consultation from the directory, answers the health questions and signs consent
at home, is held back from a treatment slot by their answers (with the reason and the date),
books the rest of their series; a treated patient checks in on day 1 with a warning sign, and
the practitioner sees and acknowledges the alert."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from dermis.core import patient as cp
from dermis.web.clinic import clock
from dermis.web.clinic.consultations import services as consultations
from dermis.web.clinic.models import Appointment, CheckIn, ConsentRecord, Patient
from dermis.web.clinic.reminders import delivery
from tests import factories
from tests.browser.browser_kit import (
    DESKTOP,
    PHONE,
    assert_fits_width,
    assert_no_serious_a11y,
    check,
    login,
    screenshot,
)
from tests.web.portal.portal_kit import treated_yesterday

pytestmark = pytest.mark.usefixtures("generous_timeouts")


def link_from_worker() -> str:
    """Run a worker round (the sign-in request only queues the email); the link's path."""
    delivery.run_round()
    return re.search(r"https?://[^/\s]+(/my/sign-in/\S+/)", mail.outbox[-1].body).group(1)


def two_months_ago() -> date:
    return timezone.localdate() - timedelta(days=61)


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone"], indirect=True)
def test_a_new_patient_from_the_directory_to_their_series(page, world, viewport):
    factories.working_hours(world.pat)
    world.northgate.phone = "0113 496 0000"
    world.northgate.save()

    page.goto(f"/directory/{world.pat.pk}/")
    page.get_by_role("link", name="Book a consultation").click()
    page.wait_for_url(re.compile(r"/my/book/\d+/$"))
    check(page, "portal-book")
    page.locator("input[name=slot]").first.check()
    page.get_by_label("First name").fill("Iris")
    page.get_by_label("Last name").fill("Newton")
    page.get_by_label("Date of birth").fill("1990-04-02")
    page.get_by_label("Email").fill("iris@example.org")
    page.get_by_label("Mobile phone").fill("07700 900555")
    page.get_by_label("Which treatment are you interested in?").select_option("microneedling")
    # the follow-up appears only when its question says yes
    last_dose = page.get_by_label("When was your last dose?")
    expect(last_dose).to_be_hidden()
    page.get_by_role("group", name=re.compile("isotretinoin")).get_by_label(
        "Yes, in the past"
    ).check()
    expect(last_dose).to_be_visible()
    last_dose.fill(two_months_ago().isoformat())
    page.get_by_role("button", name="Book my consultation").click()
    page.wait_for_url("**/my/booked/")
    heading = page.get_by_role("heading", name=re.compile("We can't offer microneedling before"))
    assert heading.is_visible()
    assert "Roaccutane" in page.locator("main").inner_text()
    check(page, "portal-booked-deferred")
    iris = Patient.objects.get(email="iris@example.org")
    assert iris.appointments.get().kind == "consultation"

    # at home: photo consent with the typed name
    page.goto("/my/")
    check(page, "portal-home")
    page.get_by_role("link", name="Photographs for your record").click()
    check(page, "portal-consent-photos")
    page.get_by_label("I have read the text above and I agree to it").check()
    page.get_by_label("Your full name").fill("Iris Newton")
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_url("**/my/")

    # the practitioner screens the portal answers at the consultation and proposes a plan
    answers = cp.Intake.model_validate(iris.portal_intakes.get().answers)
    consult = factories.consultation(world.pat, iris, answers)
    # at home: the treatment consent, drawn with the typed name
    page.goto("/my/consent/treatment/")
    check(page, "portal-consent-treatment")
    page.get_by_label("I have read the text above and I agree to it").check()
    page.get_by_label("Your full name").fill("Iris Newton")
    page.get_by_role("button", name="Sign with my typed name").click()
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_url("**/my/")
    signed = ConsentRecord.objects.get(patient=iris, consultation=consult)
    assert signed.signature_png and signed.witnessed_by is None
    plan, _ = consultations.accept_plan(
        factories.actor(world.pat),
        consult,
        [],
        consultations.SignedConsent(shown_version="", signer_name="", signature_png=b""),
    )
    assert plan.consent == signed

    # the series: held back by the answers until the deferral ends, then booked
    page.goto("/my/plan/")
    check(page, "portal-plan")
    page.get_by_role("link", name="Book your remaining sessions").click()
    until = next(f["until"] for f in consult.screening["findings"] if f["rule"] == "isotretinoin")
    day = date.fromisoformat(until)
    expect(
        page.get_by_role("heading", name=f"Your first session can be from {day.day} {day:%B %Y}")
    ).to_be_visible()
    check(page, "portal-series-deferred")
    page.get_by_role("button", name="Book these sessions").click()
    page.wait_for_url("**/my/plan/")
    sessions = list(plan.appointments.order_by("start"))
    assert len(sessions) == 4
    assert timezone.localtime(sessions[0].start).date() >= day
    check(page, "portal-plan-booked")


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone"], indirect=True)
def test_day_1_check_in_with_a_warning_sign_alerts_the_practitioner(
    page, browser, live_server, world, viewport, settings, tmp_path
):
    settings.PHOTO_ROOT = tmp_path / "photos"
    session = treated_yesterday(world)
    world.northgate.phone = "0113 496 0000"
    world.northgate.save()

    # sign in with the one-time link
    page.goto("/my/sign-in/")
    check(page, "portal-sign-in")
    page.get_by_label("Your email address").fill("nora@example.org")
    page.get_by_role("button", name="Email me a link").click()
    page.wait_for_url("**/my/sign-in/sent/")
    link = link_from_worker()
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/my/")

    page.goto(f"/my/aftercare/{session.pk}/")
    check(page, "portal-aftercare")
    page.get_by_role("link", name="Check in").click()
    check(page, "portal-check-in")
    page.get_by_label("Pink or red, like mild sunburn").check()
    page.get_by_label("Sore", exact=True).check()
    for group in page.locator("fieldset.field").all():
        legend = group.locator("legend").inner_text()
        if legend.startswith("Is there pain, heat"):
            group.get_by_label("Yes").check()
        elif legend.startswith(("Is ", "Are ", "Can ", "Has ")):
            group.get_by_label("No").check()
    page.get_by_label("A little better").check()
    page.get_by_role("button", name="Send to the clinic").click()
    expect(page.get_by_role("heading", name="Please call the clinic now")).to_be_visible()
    assert "0113 496 0000" in page.locator("main").inner_text()
    check(page, "portal-check-in-warning")
    made = CheckIn.objects.get()
    assert made.warnings == ["infection"] and made.day == 1

    # the practitioner sees the alert on the dashboard and acknowledges it
    staff = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-GB")
    desk = staff.new_page()
    try:
        login(desk, "pat")
        desk.goto("/")
        alerts = desk.get_by_role("region", name="Patients reporting warning signs")
        assert "Nora Quinn" in alerts.inner_text()
        assert_no_serious_a11y(desk, "dashboard-alert")
        screenshot(desk, "portal-dashboard-alert")
        alerts.get_by_role("button", name=re.compile("Acknowledge")).click()
        desk.wait_for_url(re.compile(r"/$"))
        expect(desk.get_by_role("region", name="Patients reporting warning signs")).to_have_count(0)
    finally:
        staff.close()
    made.refresh_from_db()
    assert made.acknowledged_by == world.pat.user


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"], indirect=True)
def test_every_portal_page_passes_axe(page, world, viewport, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    session = treated_yesterday(world)
    factories.working_hours(world.pat)
    with clock.frozen_at(timezone.now()):
        factories.appointment(world.pat, world.nora, factories.next_weekday_at(10, days_ahead=9))
    public = ["/my/sign-in/", "/my/sign-in/sent/", f"/my/book/{world.pat.pk}/"]
    for url in public:
        page.goto(url)
        assert_no_serious_a11y(page, url)
        assert_fits_width(page)
    page.goto("/my/sign-in/")
    page.get_by_label("Your email address").fill("nora@example.org")
    page.get_by_role("button", name="Email me a link").click()
    page.wait_for_url("**/my/sign-in/sent/")
    link = link_from_worker()
    page.goto(link)
    assert_no_serious_a11y(page, "sign-in link")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/my/")
    own = [
        "/my/",
        "/my/plan/",
        "/my/plan/book/",
        "/my/calendar/",
        "/my/aftercare/",
        f"/my/aftercare/{session.pk}/",
        f"/my/aftercare/{session.pk}/check-in/",
        "/my/health-questions/",
        "/my/consent/photos/",
        "/my/consent/treatment/",
        "/my/forecast/",
        "/my/data/",
    ]
    for url in own:
        page.goto(url, timeout=90_000)  # the forecast chart is drawn on first use
        assert_no_serious_a11y(page, url)
        assert_fits_width(page)
    screenshot(page, "portal-data")
    page.goto("/my/forecast/", timeout=90_000)
    screenshot(page, "portal-forecast")
    assert Appointment.objects.filter(patient=world.nora).exists()
