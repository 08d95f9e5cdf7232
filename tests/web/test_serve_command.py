"""`dermis serve` migrates a fresh database and answers on a loopback port with no configuration."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

SERVE = (
    "import argparse, sys; from dermis.cli import web; "
    "p = argparse.ArgumentParser(prog='dermis'); web.register(p.add_subparsers()); "
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str, deadline: float) -> dict:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError):
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
        body = _get_json(f"http://127.0.0.1:{port}/healthz", deadline=time.monotonic() + 30)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)

    assert body["status"] == "ok", output
    assert (tmp_path / "var" / "dermis.sqlite3").is_file()
    assert "Applying auth.0001_initial... OK" in output
