"""The WSGI application settles once loaded: the knowledge base and the charting library are
loaded before the first request, what it loaded is frozen out of the garbage collector's full
collections, and the young generation is collected less often."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import gc, sys
before = gc.get_threshold()
import dermis.web.wsgi as w
from dermis.core.outcome.parameters import _default_parameters
from dermis.web.clinic.core_inputs import knowledge
print(gc.get_freeze_count(), gc.get_threshold()[0], before[0], w.YOUNG_THRESHOLD,
      "dermis.web.clinic.patients.views" in sys.modules,
      "matplotlib.backends.backend_svg" in sys.modules,
      knowledge.cache_info().currsize, _default_parameters.cache_info().currsize)
"""


def test_the_loaded_application_is_frozen_and_collected_less_often():
    env = {**os.environ, "DERMIS_ENV": "development", "DERMIS_LOG_LEVEL": "WARNING"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    frozen, threshold, default, wanted, views, charts, kb, params = out.stdout.split()
    assert int(frozen) > 50_000  # Django, the project's modules, the URLconf
    assert int(threshold) == int(wanted) > int(default)
    assert views == charts == "True"
    assert kb == params == "1"  # read once, before the first request


def test_a_knowledge_base_that_does_not_load_does_not_stop_the_server_starting(tmp_path):
    """It is reported where it is used (a page that needs it says what is wrong)."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("contraindications: [unclosed\n")
    env = {
        **os.environ,
        "DERMIS_ENV": "development",
        "DERMIS_LOG_LEVEL": "WARNING",
        "DERMIS_KNOWLEDGE": str(broken),
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["0", "1"]  # the knowledge base left to its first use
    assert "could not load knowledge at start" in out.stderr


BETWEEN = """
import gc, json
import dermis.web.wsgi as w
from dermis.web import gunicorn_conf
gunicorn_conf.post_worker_init(None)
in_a_request = gc.get_threshold()[0]
def collections():
    return gc.get_stats()[0]["collections"]
kept, counts = [], []
for n in (w.YOUNG_THRESHOLD // 2, w.YOUNG_THRESHOLD * 2):
    gc.collect()
    before = collections()
    kept.append([[i] for i in range(n)])  # a request's objects, alive past its end
    during = collections() - before
    gunicorn_conf.post_request(None, None, {}, None)
    counts.append((during, collections() - before, gc.get_count()[0]))
print(json.dumps([in_a_request, w.IN_A_REQUEST, counts]))
"""


def test_under_gunicorn_the_young_generation_is_collected_between_requests():
    """Not in the middle of one: a request's objects past the young threshold are collected by
    the hook after its response, none during it (short of IN_A_REQUEST)."""
    env = {**os.environ, "DERMIS_ENV": "development", "DERMIS_LOG_LEVEL": "WARNING"}
    out = subprocess.run(
        [sys.executable, "-c", BETWEEN], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    in_a_request, wanted, counts = json.loads(out.stdout)
    assert in_a_request == wanted > 10_000
    (few_during, few_after, few_left), (many_during, many_after, many_left) = counts
    assert few_during == few_after == 0 and few_left >= 5_000  # fewer than the threshold: left
    assert many_during == 0 and many_after == 1 and many_left < 100  # collected once, after
