"""`dermis serve` migrates a fresh database and answers on a loopback port with no configuration.

`dermis serve --demo` also seeds the demo clinics and prints their logins; never in production.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from dermis.cli import web

SERVE = (
    "import argparse, sys; from dermis.cli import web; "
    "p = argparse.ArgumentParser(prog='dermis'); web.register(p.add_subparsers()); "
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
)

# Starts servers or interpreters: `make test-fast` leaves these out.
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str, deadline: float) -> dict:
    while True:
        try:
            # The first request imports every view module: allow it a few seconds on a busy host.
            with urllib.request.urlopen(url, timeout=15) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow
def test_serve_answers_healthz_on_a_fresh_database(clean_env, tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--port", str(port)],
        env=clean_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = _get_json(f"http://127.0.0.1:{port}/healthz", deadline=time.monotonic() + 240)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)

    assert body["status"] == "ok", output
    assert (tmp_path / "var" / "dermis.sqlite3").is_file()
    assert "Applying auth.0001_initial... OK" in output
    # It says which server it runs: not the production one.
    assert "serving with Django's development server" in output and "not for production" in output
    # The worker runs beside it (sign-in links, reminders, background tasks) and stops with it.
    assert "running `dermis worker` beside it" in output
    assert not _processes_with(f"{tmp_path}", "worker")


def _processes_with(*words: str) -> list[str]:
    """Command lines of running processes whose environment or arguments hold every word."""
    import os
    from pathlib import Path

    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            seen = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        if all(w.encode() in seen for w in words):
            found.append(seen.split(b"\0")[0].decode(errors="replace"))
    return found


DEMO_PASSWORD = "demo-serve-password-57"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _log_in(base: str, username: str, password: str) -> tuple[int, str]:
    """Log in through the real login form; (status, Location) of the answer."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    with opener.open(f"{base}/accounts/login/", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": password}
    ).encode()
    try:
        with opener.open(f"{base}/accounts/login/", data=form, timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:  # the 302 that the handler declined to follow
        return exc.code, exc.headers.get("Location", "")


@pytest.mark.slow
def test_serve_demo_seeds_prints_the_logins_and_they_work(clean_env):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--demo", "--port", str(port)],
        env={**clean_env, "DERMIS_DEMO_PASSWORD": DEMO_PASSWORD},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = _get_json(f"{base}/healthz", deadline=time.monotonic() + 240)
        login = _log_in(base, "ng.priya", DEMO_PASSWORD)
        refused = _log_in(base, "ng.tom", "not-the-demo-password")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)

    assert body["status"] == "ok", output
    assert login == (302, "/"), output
    assert refused[0] == 200  # the form again, with an error
    assert "seeding demo data: 50/50 patients" in output
    assert re.search(rf"ng\.priya +Practitioner +Northgate Skin Clinic +{DEMO_PASSWORD}", output)
    assert re.search(rf"rs\.desk +Front desk +Riverside Aesthetics +{DEMO_PASSWORD}", output)
    assert f"Open {base}/ " in output


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["serve", "--demo"], {"DERMIS_ENV": "production"}),
        # Off a loopback address the settings default to production.
        (
            ["serve", "--demo", "--host", "0.0.0.0"],
            {"DERMIS_SECRET_KEY": "k" * 50, "DERMIS_RECORD_KEY": "r" * 50},
        ),
    ],
)
def test_serve_demo_is_refused_in_production(run_python, argv, env):
    code = SERVE.replace("sys.argv[1:]", repr(argv))

    result = run_python(code, **env)

    assert result.returncode == 2
    assert result.stderr == (
        "dermis: error: --demo is refused when DERMIS_ENV=production (demo patients and logins)\n"
    )


def test_serve_demo_is_off_unless_asked():
    parser = argparse.ArgumentParser(prog="dermis")
    web.register(parser.add_subparsers())

    assert parser.parse_args(["serve"]).demo is False
    assert parser.parse_args(["serve", "--demo", "--port", "8123"]).demo is True
