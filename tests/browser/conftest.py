"""Real-browser tests: Debian's Chromium, driven by Playwright, against Django's live server.

`make test` first runs `make browser-deps`, which installs /usr/bin/chromium (Debian's package)
and node_modules/axe-core (pinned in package-lock.json). Every test in this folder is marked
`browser`: `make test-fast` (pytest -m "not browser") leaves them out.

Fixtures
- `browser`: one headless Chromium shared by all the tests in this folder (starting it is the
  slow part).
- `viewport`: the page size, 1024x768 (a landscape tablet). Parametrize it to test another:
  `@pytest.mark.parametrize("viewport", [TABLET_PORTRAIT], indirect=True)`, with the sizes from
  browser_kit (TABLET_PORTRAIT is 768x1024).
- `page`: a new browser context (its own cookies) and page for each test, on `live_server`:
  relative URLs work (`page.goto("/accounts/login/")`). A request to any other host is blocked
  and fails the test (pages must load nothing from outside), and so does an uncaught JavaScript
  error. A failed test leaves a screenshot in artifacts/browser/.
- `world`: the personas of tests/web/personas.py (Northgate: alice admin, pat practitioner,
  fran front desk, patient Nora; Riverside: oscar, patient Rhys; nobody), in the database the
  live server reads. Their password is personas.PASSWORD.

Helpers, in browser_kit.py (import them from there, not from this file):
`login(page, "pat")` logs in through the real form; `submit_login(page, user, password)` only
sends it; `axe(page)` returns axe-core's WCAG 2.1 A/AA violations; `assert_no_serious_a11y(page,
name)` fails on serious/critical ones (and on a page without exactly one h1 and one main);
`assert_fits_width(page)` fails on sideways scrolling; `screenshot(page, name)` saves
artifacts/browser/<name>-<width>x<height>.png.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.browser_kit import TABLET_LANDSCAPE, screenshot

HERE = Path(__file__).resolve().parent

CHROMIUM = Path(os.environ.get("DERMIS_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps calling home, and the closed network
# refuses it noisily; the sandbox needs user namespaces that containers and root do not give.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_FAILED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real browser (tests/browser)")


# First, so that `-m "not browser"` (deselection, in another hook) already sees the marker.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    # The `page` fixture reads this at teardown to keep a screenshot of a failed test.
    item.stash.setdefault(_FAILED, False)
    if report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the whole folder."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser-deps` (it installs Debian's chromium)"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop marked as running in this thread, which makes
    # Django refuse ORM calls from the tests; there is no real concurrency here to protect.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    """The page size: 1024x768 unless the test parametrizes `viewport` (indirect=True)."""
    return dict(getattr(request, "param", TABLET_LANDSCAPE))


class _RequestsInFlight:
    """Counts the live server's requests between Django's request_started and request_finished.

    Closing a browser context does not stop the server's threads: a request the page started
    (a redirect's next page, an image) can still be writing when the test ends, and the flush
    that empties the database after it (TRUNCATE, which locks every table) then deadlocks with
    it on PostgreSQL. The page's teardown waits for none to be left."""

    def __init__(self) -> None:
        self.count = 0
        self.seen = 0
        self.changed = threading.Condition()

    def _counts(self, sender) -> bool:
        from django.test.client import AsyncClientHandler, ClientHandler

        # The test client's own requests, made in the test's thread, are not the server's.
        return sender not in (ClientHandler, AsyncClientHandler)

    def started(self, sender, **kwargs) -> None:
        if self._counts(sender):
            with self.changed:
                self.count += 1
                self.seen += 1

    def finished(self, sender, **kwargs) -> None:
        if self._counts(sender):
            with self.changed:
                self.count = max(0, self.count - 1)
                self.changed.notify_all()

    def wait_for_none(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count == 0, timeout=timeout)


@pytest.fixture
def server_requests():
    """Yields a counter of the live server's requests in flight (see _RequestsInFlight)."""
    from django.core.signals import request_finished, request_started

    in_flight = _RequestsInFlight()
    request_started.connect(in_flight.started, weak=False)
    request_finished.connect(in_flight.finished, weak=False)
    try:
        yield in_flight
    finally:
        request_started.disconnect(in_flight.started)
        request_finished.disconnect(in_flight.finished)


@pytest.fixture
def page(browser, live_server, viewport, server_requests, request: pytest.FixtureRequest):
    """A fresh context and page whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="en-GB")
    context.set_default_timeout(10_000)
    problems: list[str] = []
    own_origin = urlsplit(live_server.url).netloc

    def only_own_server(route):
        if urlsplit(route.request.url).netloc == own_origin:
            route.continue_()
        else:
            problems.append(f"blocked request to another host: {route.request.url}")
            route.abort()

    context.route(lambda url: url.startswith(("http:", "https:", "ws:", "wss:")), only_own_server)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    # A script, style or image the Content-Security-Policy refused: the page is broken for users.
    page.on(
        "console",
        lambda msg: (
            "Content Security Policy" in msg.text and problems.append(f"{page.url}: {msg.text}")
        ),
    )
    yield page
    if request.node.stash.get(_FAILED, False):
        screenshot(page, f"failed-{request.node.name}")
    context.close()
    if not server_requests.wait_for_none(timeout=60):
        problems.append("the live server was still answering a request 60 s after the test")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def world(transactional_db):
    """The personas, committed where the live server's own database connection can see them.

    Their password is hashed once per run (personas.password_hash); logging in checks it."""
    from tests.personas import build_world

    return build_world()


@pytest.fixture
def generous_timeouts(page):
    """Room for a busy machine: the slot finder and the forecast chart run on page loads, and
    the first request loads the whole site (`pytestmark = usefixtures("generous_timeouts")`)."""
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(90_000)
