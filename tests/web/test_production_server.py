"""`dermis serve` in production: gunicorn on PostgreSQL, 50 clients at once, no reset.

Django's development server listens with a backlog of 10 and reset 6–14 of 50 simultaneous
connections; gunicorn listens with a backlog of 2048 (DERMIS_BACKLOG).
"""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.scratch_postgres import scratch_database

pytestmark = pytest.mark.slow

CLIENTS = 50
SECRET = "production-test-secret-key-0123456789-abcdefghij"
HTTPS = {"X-Forwarded-Proto": "https"}  # what the TLS proxy in front says


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, headers: dict | None = None, timeout: float = 60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _wait_until_up(port: int, server: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return
        try:
            if _get(port, "/healthz", timeout=10)[0] == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the server did not answer /healthz in time")


@pytest.fixture
def production_server(clean_env):
    port = _free_port()
    with scratch_database("dermis_serve") as url:
        env = {
            **clean_env,
            "DERMIS_ENV": "production",
            "DERMIS_SECRET_KEY": SECRET,
            "DERMIS_RECORD_KEY": SECRET[::-1],
            "DATABASE_URL": url,
            "DERMIS_WORKERS": "3",
            "DERMIS_PUBLIC_URL": "https://clinic.example",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "dermis", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_until_up(port, server, deadline=time.monotonic() + 180)
            yield port, server
        finally:
            if server.poll() is None:
                server.terminate()
            server.wait(timeout=60)


def test_gunicorn_answers_fifty_simultaneous_clients_without_a_reset(production_server):
    port, server = production_server
    assert server.poll() is None, server.stdout.read()
    start = threading.Barrier(CLIENTS)
    results: list[object] = [None] * CLIENTS

    def client(i: int) -> None:
        start.wait()
        try:
            path = "/accounts/login/" if i % 2 else "/healthz"
            results[i] = _get(port, path, HTTPS)[0]
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    failures = [r for r in results if r != 200]
    assert failures == [], failures

    # The production stack is in place: gunicorn, hashed static files cached for a year, HSTS.
    status, headers, body = _get(port, "/accounts/login/", HTTPS)
    assert headers["Server"] == "gunicorn"
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    css = re.search(rb'href="(/static/clinic/dermis\.[0-9a-f]{12}\.css)"', body)
    assert css, body[:500]
    status, headers, _ = _get(port, css.group(1).decode(), HTTPS)
    assert status == 200 and "max-age=315360000" in headers["Cache-Control"]
    # A missing static file, a traversal attempt and an unknown Host are 4xx, never 500.
    assert _get(port, "/static/clinic/missing.css", HTTPS)[0] == 404
    assert _get(port, "/static/../../etc/passwd", HTTPS)[0] == 404
    assert _get(port, "/", {**HTTPS, "Host": "evil.example"})[0] == 400
    # Plain HTTP from the proxy is redirected to HTTPS; the health probe is not.
    assert _get(port, "/accounts/login/")[0] == 301
    assert _get(port, "/healthz")[0] == 200

    server.terminate()  # SIGTERM: gunicorn lets its workers finish, then exits cleanly
    output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert "serving with gunicorn on 127.0.0.1:" in output
    assert "Shutting down: Master" in output
