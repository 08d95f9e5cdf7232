"""The page fixture's teardown waits for the live server's requests (conftest._RequestsInFlight)."""

from __future__ import annotations

import threading

from tests.browser.conftest import _RequestsInFlight


def test_the_live_servers_requests_are_counted_until_answered(page, server_requests):
    before = server_requests.seen
    page.goto("/healthz")
    assert server_requests.seen > before  # the server's request was counted
    assert server_requests.wait_for_none(timeout=10)


def test_waiting_lasts_until_the_last_request_finishes():
    from django.core.handlers.wsgi import WSGIHandler

    in_flight = _RequestsInFlight()
    in_flight.started(WSGIHandler)
    assert not in_flight.wait_for_none(timeout=0.05)
    threading.Timer(0.1, in_flight.finished, args=(WSGIHandler,)).start()
    assert in_flight.wait_for_none(timeout=10)
    assert in_flight.count == 0
