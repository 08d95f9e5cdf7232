"""What the browser tests do to a page: log in, run axe-core, check layout, keep screenshots.

Import from test modules in tests/browser: `from browser_kit import login, assert_no_serious_a11y`.
(Not from `conftest`: pytest imports every folder's conftest.py under the same module name.)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response

REPO = Path(__file__).resolve().parents[2]
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "artifacts" / "browser"

# WCAG 2.1 levels A and AA, the standard the project's pages are held to.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING_IMPACTS = ("serious", "critical")
LOGIN_PATH = "/accounts/login/"
TABLET_LANDSCAPE = {"width": 1024, "height": 768}
TABLET_PORTRAIT = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def submit_login(page: Page, username: str, password: str | None = None) -> Response:
    """Fill in and send the real login form (default: the personas' password); return the POST's
    response."""
    if password is None:
        from tests.personas import PASSWORD  # imports Django models: only once Django is set up

        password = PASSWORD
    page.goto(LOGIN_PATH)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(LOGIN_PATH)
    ) as posted:
        page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return posted.value


TWO_FACTOR_PATH = "/accounts/two-factor/"
CODE_LABEL = "Six-digit code from your authenticator app"


def totp_code(username: str, *, confirmed: bool) -> str:
    """The current code of the user's TOTP device (the one being set up, or a confirmed one)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = (
        TOTPDevice.objects.filter(user__username=username, confirmed=confirmed)
        .order_by("-pk")
        .first()
    )
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def pass_second_factor(page: Page, username: str) -> None:
    """If the page asks for the second factor (setting one up, or a code), answer it."""
    if TWO_FACTOR_PATH not in page.url:
        return
    setting_up = "/setup/" in page.url
    page.get_by_label(CODE_LABEL).fill(totp_code(username, confirmed=not setting_up))
    page.get_by_role("button", name="Turn on" if setting_up else "Continue").click()
    page.wait_for_load_state()


def login(page: Page, username: str, password: str | None = None) -> None:
    """Log in through the login form as a persona (tests/web/personas.py), passing the second
    factor where it is asked for; fail if refused."""
    submit_login(page, username, password)
    pass_second_factor(page, username)
    if page.url.split("?")[0].endswith(LOGIN_PATH) or page.locator("[role=alert]").count():
        pytest.fail(f"logging in as {username!r} failed; the page says: {_main_text(page)}")


def axe(page: Page, tags: tuple[str, ...] = WCAG_TAGS) -> list[dict]:
    """Run axe-core on the page as it is now; return its violations (rule, impact, nodes...)."""
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS.relative_to(REPO)} is missing: run `make browser-deps`")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's debugging protocol: a <script> tag would be refused by
        # the pages' Content-Security-Policy (no inline script), as it should be.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    return page.evaluate(
        "async (options) => (await axe.run(document, options)).violations", options
    )


def structure_problems(page: Page) -> list[str]:
    """The project's own page rules axe's WCAG tags leave out: one h1, one main, a lang, a title."""
    problems = []
    h1s = page.locator("h1").count()
    if h1s != 1:
        problems.append(f"{h1s} h1 elements (want exactly 1)")
    mains = page.locator("main, [role=main]").count()
    if mains != 1:
        problems.append(f"{mains} main landmarks (want exactly 1)")
    if not page.evaluate("() => document.documentElement.lang"):
        problems.append("<html> has no lang")
    if not page.title().strip():
        problems.append("the page has no <title>")
    return problems


def assert_no_serious_a11y(page: Page, name: str) -> None:
    """Fail with a readable list if axe finds a serious or critical WCAG 2.1 A/AA violation.

    Minor and moderate findings do not fail the test; they are listed when something else does.
    Also checks structure_problems(). `name` says which page this is in the message.
    """
    violations = axe(page)
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    problems = structure_problems(page)
    if not blocking and not problems:
        return
    lines = [f"{name} ({page.url}) is not accessible enough:"]
    lines += [f"- structure: {p}" for p in problems]
    worst_first = {"critical": 0, "serious": 1, "moderate": 2}
    for v in sorted(violations, key=lambda v: worst_first.get(v.get("impact"), 3)):
        targets = ", ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:5])
        more = f" (+{len(v['nodes']) - 5} more)" if len(v["nodes"]) > 5 else ""
        lines.append(f"- {v['id']} [{v.get('impact')}]: {v['help']} -> {targets}{more}")
    screenshot(page, f"a11y-{name}")
    pytest.fail("\n".join(lines), pytrace=False)


def assert_fits_width(page: Page) -> None:
    """Fail if the page scrolls sideways at the current viewport (not responsive)."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide in a {widths[1]}px viewport"


def check(page: Page, name: str) -> None:
    """No serious accessibility finding, nothing wider than the viewport; kept as an artifact."""
    assert_no_serious_a11y(page, name)
    assert_fits_width(page)
    screenshot(page, name)


def docs_screenshot(page: Page, filename: str) -> Path:
    """A screenshot the documentation shows: written to docs/screenshots/ when
    DERMIS_DOC_SCREENSHOTS=1 (`make screenshots`), else beside the other artifacts, so that a
    test run leaves the checkout as it found it."""
    folder = REPO / "docs" / "screenshots"
    if os.environ.get("DERMIS_DOC_SCREENSHOTS") != "1":
        folder = ARTIFACTS / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / filename), full_page=True)
    return folder / filename


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as artifacts/browser/<name>-<width>x<height>.png; return its path."""
    size = page.viewport_size or {"width": 0, "height": 0}
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
    path = ARTIFACTS / f"{slug}-{size['width']}x{size['height']}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def _main_text(page: Page) -> str:
    main = page.locator("main")
    text = main.inner_text() if main.count() else page.content()
    return " ".join(text.split())[:300]
