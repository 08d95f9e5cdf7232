"""What gunicorn itself reads from `dermis.web.gunicorn_conf` (its `--print-config`), for the
worker recycling that `DERMIS_MAX_REQUESTS` sets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _gunicorn(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DERMIS_MAX_REQUESTS")}
    return subprocess.run(
        [GUNICORN, "--config", "python:dermis.web.gunicorn_conf", "--print-config"],
        env={**clean, "DERMIS_ENV": "development", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _printed(**env: str) -> dict[str, str]:
    out = _gunicorn(**env)
    assert out.returncode == 0, out.stderr
    pairs = (line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def test_a_worker_is_recycled_after_fifty_thousand_requests_by_default():
    """Not every 2,000: under load that restarted each worker about every 20 seconds, loading the
    application again and dropping what it keeps (docs/scale.md)."""
    printed = _printed()
    assert printed["max_requests"] == "50000"
    assert printed["max_requests_jitter"] == "5000"


@pytest.mark.parametrize(("value", "limit", "jitter"), [("0", "0", "0"), ("300", "300", "30")])
def test_the_limit_is_set_from_the_environment(value, limit, jitter):
    printed = _printed(DERMIS_MAX_REQUESTS=value)
    assert (printed["max_requests"], printed["max_requests_jitter"]) == (limit, jitter)


def test_a_limit_that_is_not_a_number_is_refused_naming_the_variable():
    out = _gunicorn(DERMIS_MAX_REQUESTS="lots")
    assert out.returncode != 0
    assert "DERMIS_MAX_REQUESTS='lots'" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
