"""The WSGI application settles once loaded: the knowledge base and the charting library are
loaded before the first request, what it loaded is frozen out of the garbage collector's full
collections, and the young generation is collected less often."""

from __future__ import annotations

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
