"""The front desk's day in a real browser: book from an empty diary slot, move the appointment by
dragging it and with the keyboard, check a patient in, mark a no-show; a practitioner charts from
the checked-in appointment; the record, the diary and the API then agree on its status. axe-core
on every page; screenshots of the diary at phone, tablet and desktop width in docs/screenshots/.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dermis.web.clinic.models import Appointment
from dermis.web.clinic.scheduling import services
from tests import factories
from tests.browser.browser_kit import (
    TABLET_LANDSCAPE,
    assert_fits_width,
    assert_no_serious_a11y,
    docs_screenshot,
    login,
)

SIZES = {"phone": (390, 844), "tablet": (1024, 768), "desktop": (1440, 900)}


@pytest.fixture
def day(world):
    """Pat works round the clock (the test may run at any hour); Nora has an accepted plan, a
    treatment later today (pre-care done) and a consultation that started an hour ago."""
    factories.working_hours(world.pat, time(0, 0), time(23, 59))
    plan = factories.accepted_plan(world.pat, world.nora)
    now = timezone.localtime()
    # The next five minutes at least five minutes away, for an hour or what is left of the day
    # (Pat's hours end at 23:59): late in the evening the treatment is shorter, still today.
    soon = now + timedelta(minutes=5)
    later = soon.replace(second=0, microsecond=0) + timedelta(minutes=-soon.minute % 5)
    minutes = min(60, (23 * 60 + 59 - later.hour * 60 - later.minute) // 5 * 5)
    if later.date() != now.date() or minutes < 5:
        pytest.skip("the scenario needs a treatment later today: run it before 23:45")
    treatment = factories.appointment(
        world.pat,
        world.nora,
        later,
        minutes=minutes,
        kind=Appointment.Kind.TREATMENT,
        plan=plan,
        modality="microneedling",
        precare_done=True,
    )
    missed = services.record_appointment(
        factories.actor(world.fran),
        world.nora,
        practitioner=world.pat,
        start=(now - timedelta(minutes=70)).replace(second=0, microsecond=0),
        end=(now - timedelta(minutes=40)).replace(second=0, microsecond=0),
        kind=Appointment.Kind.FOLLOW_UP,
    )
    return {"treatment": treatment, "missed": missed, "tomorrow": now.date() + timedelta(days=1)}


def check(page: Page, name: str) -> None:
    assert_no_serious_a11y(page, name)
    assert_fits_width(page)


def _open(page: Page, appointment: Appointment) -> None:
    day = timezone.localtime(appointment.start).date()
    page.goto(f"/diary/?date={day.isoformat()}")
    page.locator(f".dg-appt[data-appointment='{appointment.pk}']").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nora Quinn")


def test_the_front_desks_day_and_the_practitioners_chart(page, world, day, api_as):
    login(page, "fran")
    tomorrow = day["tomorrow"]
    label = f"{tomorrow:%a} {tomorrow.day} {tomorrow:%b}"
    page.goto(f"/diary/?date={tomorrow.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Diary")
    check(page, "diary-empty")

    # 1. Book from an empty slot.
    page.get_by_role("link", name=f"Book with Pat Practitioner, {label} 10:00").click()
    check(page, "diary-book")
    page.get_by_label("Name or date of birth").fill("Quinn")
    page.get_by_role("button", name="Find the patient").click()
    page.get_by_role("link", name=re.compile("^Book for Nora Quinn")).click()
    page.get_by_label("Kind of appointment").select_option("consultation")
    page.get_by_label("Duration (minutes)").fill("30")
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_url(re.compile(r"/diary/\?"))
    booked = Appointment.objects.get(patient=world.nora, start__date=tomorrow)
    block = page.locator(f".dg-appt[data-appointment='{booked.pk}']")
    expect(block).to_contain_text("Nora Quinn")
    expect(block).to_contain_text("Booked")
    assert timezone.localtime(booked.start).time() == time(10, 0)

    # 2. Move it by dragging: the reschedule preview opens, then the move is confirmed.
    block.drag_to(page.get_by_role("link", name=f"Book with Pat Practitioner, {label} 14:00"))
    page.wait_for_url(re.compile(rf"/appointments/{booked.pk}/reschedule/"))
    expect(page.get_by_role("heading", name="What the move does")).to_be_visible()
    check(page, "diary-drag-preview")
    page.get_by_role("button", name="Move this session").click()
    page.wait_for_url(re.compile(r"/diary/\?"))
    booked.refresh_from_db()
    assert timezone.localtime(booked.start).time() == time(14, 0)

    # 3. Move it with the keyboard: open it, "Move", type the new time, check, confirm.
    page.locator(f".dg-appt[data-appointment='{booked.pk}']").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nora Quinn")
    check(page, "diary-appointment")
    page.get_by_role("link", name="Move").focus()
    page.keyboard.press("Enter")
    page.get_by_label("New time").fill("16:30")
    page.get_by_label("New time").press("Enter")
    expect(page.get_by_role("heading", name="What the move does")).to_be_visible()
    page.get_by_role("button", name="Move this session").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/diary/\?"))
    booked.refresh_from_db()
    assert timezone.localtime(booked.start).time() == time(16, 30)

    # 4. Check in today's treatment patient.
    treatment = day["treatment"]
    _open(page, treatment)
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("[data-status]")).to_have_text("Arrived")

    # 5. The follow-up that started an hour ago needs an outcome: a no-show.
    missed = day["missed"]
    page.goto(f"/diary/?date={timezone.localtime(missed.start).date().isoformat()}")
    expect(page.locator(f".dg-appt[data-appointment='{missed.pk}']")).to_contain_text(
        "Needs an outcome"
    )
    check(page, "diary-today")
    for name, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        assert_no_serious_a11y(page, f"diary-{name}")
        assert_fits_width(page)
        docs_screenshot(page, f"diary-{name}.png")
    page.set_viewport_size(TABLET_LANDSCAPE)
    _open(page, missed)
    page.get_by_role("button", name="No-show").click()
    expect(page.locator("[data-status]")).to_have_text("Did not attend")
    missed.refresh_from_db()
    assert missed.status == "no_show"

    # 6. Pat charts the session from the checked-in appointment.
    page.context.clear_cookies()
    login(page, "pat")
    _open(page, treatment)
    page.get_by_role("link", name="Chart this session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chart a session")
    depth = page.get_by_label("Depth for Cheeks (mm)")
    if not depth.input_value():
        depth.fill("1.0")
    page.get_by_label("Passes on Cheeks").fill("2")
    page.get_by_label("Needle cartridge").fill("12-pin")
    page.get_by_label("Lot number").fill("LOT-7")
    page.get_by_label("Even erythema").check()
    precare = page.get_by_label("Pre-care was done")
    if precare.count() and not precare.is_checked():
        precare.check()
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))

    # The record, the diary and the API agree: in treatment.
    treatment.refresh_from_db()
    assert treatment.status == "in_treatment"
    assert treatment.session.pk == int(page.url.rstrip("/").rsplit("/", 1)[-1])
    _open(page, treatment)
    expect(page.locator("[data-status]")).to_have_text("In treatment")
    page.goto(f"/diary/?date={timezone.localtime(treatment.start).date().isoformat()}")
    expect(page.locator(f".dg-appt[data-appointment='{treatment.pk}']")).to_contain_text(
        "In treatment"
    )
    page.goto(f"/patients/{world.nora.pk}/")
    expect(page.locator("main")).to_contain_text("In treatment")
    api = api_as("pat").get(f"/api/v1/appointments/{treatment.pk}")
    assert api.json()["status"] == "in_treatment"
