"""The whole journey in a real browser, through the real pages only.

Front desk registers a patient; the practitioner finds her, runs the consultation, accepts the
plan with a drawn signature, charts a session on the face diagram (mouse and keyboard), uploads
a photo, finalises the session and downloads the aftercare handout. Every page is checked with
axe-core (no serious or critical WCAG 2.1 A/AA violation) and kept as a screenshot in
artifacts/browser/journey-*.png. After the world fixture, the database is only read, at the end.
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.browser_kit import assert_no_serious_a11y, login, screenshot

GIVEN, FAMILY = "Maya", "Okafor"
FULL_NAME = f"{GIVEN} {FAMILY}"
BORN = date(1990, 6, 21)
PHONE, EMAIL = "07700 900456", "maya.okafor@example.org"
CARTRIDGE, LOT = "36-pin nano", "LOT-2025-117"


@pytest.fixture
def photo_root(settings, tmp_path: Path) -> Path:
    """Uploaded photos go to the test's own folder (the live server runs in this process)."""
    settings.PHOTO_ROOT = tmp_path / "photos"
    return settings.PHOTO_ROOT


def check(page: Page, step: str) -> None:
    """The page as it is now: no serious accessibility problem; kept as an artifact."""
    assert_no_serious_a11y(page, f"journey {step}")
    screenshot(page, f"journey-{step}")


def h1(page: Page) -> str:
    return page.get_by_role("heading", level=1).inner_text().strip()


def messages(page: Page) -> Locator:
    return page.locator("main [role=status] .messages")


def small_jpeg(path: Path) -> Path:
    """A real JPEG photo-sized image (a gradient, so it does not compress to nothing)."""
    from PIL import Image

    image = Image.new("RGB", (640, 480))
    image.putdata([(x % 256, y % 256, (x + y) % 256) for y in range(480) for x in range(640)])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    path.write_bytes(buffer.getvalue())
    return path


def draw_signature(page: Page) -> None:
    """Sign in the canvas with the mouse: a zigzag stroke across the box."""
    canvas = page.locator("#signature-pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box, "the signature box is not on screen"
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(left + width * 0.1, top + height * 0.6)
    page.mouse.down()
    for i in range(1, 9):
        page.mouse.move(
            left + width * (0.1 + 0.1 * i), top + height * (0.3 if i % 2 else 0.7), steps=4
        )
    page.mouse.up()


def register_patient(page: Page) -> None:
    """1. Fran (front desk) registers the patient and sees no clinical section."""
    login(page, "fran")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    page.get_by_role("link", name="Register a patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a patient")
    check(page, "01-register-form")
    page.get_by_label("Given name").fill(GIVEN)
    page.get_by_label("Family name").fill(FAMILY)
    page.get_by_label("Date of birth").fill(BORN.isoformat())
    page.get_by_label("Phone").fill(PHONE)
    page.get_by_label(re.compile(r"^Email:?$")).fill(EMAIL)
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    assert h1(page) == FULL_NAME
    expect(messages(page)).to_contain_text("Patient registered.")
    details = page.locator("section", has=page.get_by_role("heading", name="Details"))
    expect(details).to_contain_text("21 June 1990")
    expect(details).to_contain_text(PHONE)
    expect(details).to_contain_text(EMAIL)
    # Front desk: demographics and appointments only.
    main = page.locator("main")
    for clinical in ("Consultations and screening", "Treatment plan", "Treatment sessions"):
        expect(main.get_by_role("heading", name=clinical)).to_have_count(0)
    expect(main.get_by_role("link", name="New consultation")).to_have_count(0)
    expect(details).not_to_contain_text("Fitzpatrick")
    check(page, "02-record-front-desk")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/$"))


def run_consultation(page: Page) -> None:
    """2. Pat finds the patient, records the consultation, reads the screening and proposal."""
    login(page, "pat")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Search patients").fill(FAMILY)
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("heading", name=re.compile("matching"))
    expect(results).to_have_text(f"1 patient matching “{FAMILY}”")
    check(page, "03-patient-search")
    page.get_by_role("link", name=f"{FAMILY}, {GIVEN}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FULL_NAME)
    main = page.locator("main")
    expect(main.get_by_role("heading", name="Consultations and screening")).to_be_visible()
    expect(main).to_contain_text("No consultation yet.")
    check(page, "04-record-practitioner")

    page.get_by_role("link", name="New consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"New consultation: {FULL_NAME}")
    check(page, "05-consultation-form")
    # Every screening question keeps its "no" default, except one precaution.
    page.get_by_label("Gets cold sores (herpes simplex)").check()
    page.get_by_role("radio", name=re.compile(r"^III: sometimes burns")).check()
    concern = page.get_by_role("group", name="Concern 1", exact=True)
    concern.get_by_label(re.compile(r"^Area:?$")).select_option(label="Cheeks")
    concern.get_by_label("Concern and its scale").select_option("acne_scars_rolling")
    concern.get_by_label("Grade on that scale").fill("3")
    page.get_by_role("button", name="Screen and plan").click()
    page.wait_for_url(re.compile(r"/consultations/\d+/$"))

    assert h1(page).startswith("Consultation of ") and h1(page).endswith(FULL_NAME), h1(page)
    screening = page.locator("section", has=page.get_by_role("heading", name="Screening"))
    finding = screening.locator(".finding").filter(has_text=re.compile("herpes|cold sore", re.I))
    expect(finding.first).to_be_visible()
    expect(finding.first.locator(".cite a").first).to_be_visible()  # cited
    answers = page.locator("section", has=page.get_by_role("heading", name="Intake and assessment"))
    expect(answers).to_contain_text("Gets cold sores (herpes simplex)")
    expect(answers).to_contain_text("Cheeks: Acne scars - rolling, grade 3")
    proposal = page.locator("section", has=page.get_by_role("heading", name="Proposed plan"))
    expect(proposal.get_by_role("heading", name=re.compile(r"^Microneedling"))).to_be_visible()
    expect(proposal.get_by_role("rowheader", name="Cheeks")).to_be_visible()
    sources = page.locator("section.references")
    expect(sources.get_by_role("heading", name="Sources")).to_be_visible()
    assert sources.locator("li").count() >= 1
    check(page, "06-consultation-screening")


def accept_plan(page: Page) -> None:
    """3. Pat accepts the proposal: agreement, typed name, a signature drawn with the mouse."""
    page.get_by_role("checkbox", name=re.compile(r"^The patient has read the consent")).check()
    page.get_by_label("Patient's full name, typed").fill(FULL_NAME)
    draw_signature(page)
    expect(page.locator("#signature-status")).to_have_text("Signature captured.")
    signature = page.locator("input[name=signature]").input_value()
    assert signature.startswith("data:image/png;base64,"), signature[:40]
    screenshot(page, "journey-06b-consent-signed")  # same page as 06: the signature as drawn
    page.get_by_role("button", name="Accept the plan and store the consent").click()
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    assert h1(page) == f"Treatment plan, version 1: {FULL_NAME}"
    expect(messages(page)).to_contain_text("Plan version 1 accepted and consent stored.")
    facts = page.locator("main dl.facts").first
    expect(facts.locator(".badge")).to_have_text("Active")
    expect(facts).to_contain_text(f"signed by {FULL_NAME}")
    check(page, "07-plan-version-1")


def chart_session(page: Page, jpeg: Path) -> tuple[str, str]:
    """4. Pat charts a session from the plan, adds a photo, finalises it.

    Returns the session's URL and the depth charted (the plan's, within its limits)."""
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=FULL_NAME).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FULL_NAME)
    page.get_by_role("link", name="Chart a session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chart a session")
    expect(page.locator("main")).to_contain_text("Prefilled from the active plan")
    check(page, "08-session-form")

    face = page.get_by_role("group", name=re.compile("^Face, neck and décolletage"))
    cheeks_shape = face.get_by_role("checkbox", name="Cheeks")
    cheeks_box = page.locator("input[name=treat_cheeks]")
    planned_depth = page.get_by_label("Depth for Cheeks (mm)").input_value()
    assert planned_depth, "the planned depth was not prefilled"
    # The plan ticks the cheeks: clicking the left cheek unticks them, clicking again picks
    # them. (The shape is both cheeks: the middle of its box is the nose, so aim at one.)
    expect(cheeks_shape).to_have_attribute("aria-checked", "true")
    box = cheeks_shape.bounding_box()
    assert box, "the cheeks are not on the diagram"
    left_cheek = {"x": box["width"] * 0.15, "y": box["height"] * 0.5}
    cheeks_shape.click(position=left_cheek)
    expect(cheeks_shape).to_have_attribute("aria-checked", "false")
    expect(cheeks_box).not_to_be_checked()
    cheeks_shape.click(position=left_cheek)
    expect(cheeks_shape).to_have_attribute("aria-checked", "true")
    expect(cheeks_box).to_be_checked()
    # The keyboard works too: Space picks the chin, Enter puts it back.
    chin_shape = face.get_by_role("checkbox", name="Chin")
    chin_box = page.locator("input[name=treat_chin]")
    chin_shape.focus()
    assert page.evaluate("() => document.activeElement.getAttribute('data-area')") == "chin"
    page.keyboard.press("Space")
    expect(chin_shape).to_have_attribute("aria-checked", "true")
    expect(chin_box).to_be_checked()
    page.keyboard.press("Enter")
    expect(chin_shape).to_have_attribute("aria-checked", "false")
    expect(chin_box).not_to_be_checked()
    assert "/sessions/new/" in page.url, "Enter on the diagram submitted the form"

    page.get_by_label("Depth for Cheeks (mm)").fill(planned_depth)
    page.get_by_label("Passes on Cheeks").fill("2")
    page.get_by_label("Needle cartridge").fill(CARTRIDGE)
    page.get_by_label("Lot number").fill(LOT)
    page.get_by_label("Even erythema").check()
    # Charted today with no booking made ahead: the gate asks whether pre-care was done.
    page.get_by_label("Pre-care was done").check()
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))
    session_url = page.url
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("Draft")
    expect(messages(page)).to_contain_text("Draft saved.")
    areas = page.locator("table.areas-table")
    expect(areas.get_by_role("rowheader", name="Cheeks")).to_be_visible()
    expect(areas).to_contain_text("Within limits")
    record = page.locator("section", has=page.get_by_role("heading", name="Record"))
    expect(record).to_contain_text(LOT)
    check(page, "09-session-draft")

    # A photo of the cheeks, tied to this session, through the record page's photo panel.
    page.get_by_role("link", name=FULL_NAME).first.click()
    page.get_by_role("link", name="Upload a photo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload a photo")
    check(page, "10-photo-upload")
    page.get_by_label(re.compile(r"^Photo:?$")).set_input_files(str(jpeg))
    page.get_by_label("Area").select_option(label="Cheeks")
    page.get_by_label("Stage").select_option(label="After")
    session_choice = page.get_by_label("Session (optional)")
    session_choice.select_option(index=1)  # the only session: the draft just saved
    assert session_choice.input_value() == session_url.rstrip("/").rsplit("/", 1)[-1]
    page.get_by_label("The patient agreed to this photo being kept in their record").check()
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/photos/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Photos of {FULL_NAME}")
    expect(messages(page)).to_contain_text("Photo saved.")
    thumb = page.get_by_role("img", name=re.compile(r"^Cheeks, after"))
    expect(thumb).to_be_visible()
    # The thumbnail really loads (lazily: wait for it), served by the app from the upload.
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    check(page, "11-photo-list")

    page.get_by_role("link", name="session").click()
    assert page.url == session_url
    expect(page.get_by_role("heading", name="Photos from this session")).to_be_visible()
    # Finalising asks for a confirmation (a tick; accept a dialog too, should one appear).
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("checkbox", name=re.compile(r"^I confirm this record is complete")).check()
    page.get_by_role("button", name="Finalise and lock").click()
    page.wait_for_load_state()
    expect(messages(page)).to_contain_text("Session finalised: the record is signed and locked.")
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("Finalised")
    expect(page.get_by_text("Record intact")).to_be_visible()
    expect(page.get_by_role("link", name="Edit draft")).to_have_count(0)
    expect(page.get_by_role("button", name="Add addendum")).to_be_visible()
    check(page, "12-session-finalised")

    # Locked: the edit page now refuses and points to addenda.
    response = page.goto(session_url + "edit/")
    assert response is not None and response.status == 409
    expect(page.get_by_role("heading", level=1)).to_have_text("This session is finalised")
    check(page, "13-session-locked")
    page.get_by_role("link", name="Go to the session and add an addendum").click()
    return session_url, planned_depth


def download_aftercare(page: Page, tmp_path: Path) -> bytes:
    """5. The aftercare page, and its handout as a PDF download."""
    page.get_by_role("link", name="Aftercare instructions for this session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Aftercare for {FULL_NAME}")
    expect(page.locator("main")).not_to_contain_text("No aftercare yet")
    check(page, "14-aftercare")
    # The PDF is drawn as it is asked for (WeasyPrint): on a loaded machine, well over the
    # 10 s an action is given, so the download has a minute of its own.
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("link", name="Download the handout (PDF)").click(no_wait_after=True)
    download = download_info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    return saved.read_bytes()


def test_front_desk_to_aftercare_handout_in_a_real_browser(page, world, photo_root, tmp_path):
    jpeg = small_jpeg(tmp_path / "cheeks-after.jpg")

    register_patient(page)
    run_consultation(page)
    accept_plan(page)
    session_url, depth = chart_session(page, jpeg)
    handout = download_aftercare(page, tmp_path)
    assert handout.startswith(b"%PDF"), handout[:20]
    assert len(handout) > 5_000, f"the handout is only {len(handout)} bytes"

    # Read back what the pages stored.
    from dermis.web.clinic.models import AuditEvent, Patient, TreatmentSession

    patient = Patient.objects.get(given_name=GIVEN, family_name=FAMILY)
    assert (patient.clinic, patient.date_of_birth) == (world.northgate, BORN)
    assert (patient.phone, patient.email, patient.fitzpatrick) == (PHONE, EMAIL, "III")
    assert patient.created_by == world.fran.user
    consultation = patient.consultations.get()
    assert consultation.practitioner == world.pat
    assert consultation.status == "accepted"
    assert consultation.intake["herpes_simplex_history"] is True
    assert consultation.assessment["concerns"] == [
        {"area": "cheeks", "concern": "acne_scars_rolling", "severity": 3.0}
    ]
    plan = patient.plans.get()
    assert (plan.version, plan.status, plan.consultation) == (1, "active", consultation)
    assert plan.consent.signer_name == FULL_NAME
    assert bytes(plan.consent.signature_png).startswith(b"\x89PNG")
    session = patient.sessions.get()
    assert session_url.endswith(f"/sessions/{session.pk}/")
    assert (session.status, session.plan, session.practitioner) == ("final", plan, world.pat)
    assert session.status == TreatmentSession.Status.FINAL and session.content_sha256
    assert (session.cartridge, session.lot_number, session.endpoint) == (CARTRIDGE, LOT, "erythema")
    area = session.areas.get()
    assert (area.area, area.passes) == ("cheeks", 2)
    assert float(area.depth_mm) == float(depth) > 0
    photo = patient.photos.get()
    assert (photo.session, photo.area, photo.stage) == (session, "cheeks", "after")
    assert (photo_root / photo.storage_name).is_file()

    events = AuditEvent.objects.filter(patient_id_ref=patient.pk)
    done = set(events.values_list("username", "action", "object_type"))
    for expected in [
        ("fran", "create", "Patient"),
        ("pat", "create", "Consultation"),
        ("pat", "sign", "ConsentRecord"),
        ("pat", "create", "TreatmentPlan"),
        ("pat", "create", "TreatmentSession"),
        ("pat", "create", "Photo"),
        ("pat", "sign", "TreatmentSession"),
        ("pat", "denied", "TreatmentSession"),
        ("pat", "download", "TreatmentSession"),
    ]:
        assert expected in done, f"no audit event {expected}; found {sorted(done)}"
