"""The WSGI application settles once loaded: what it loaded is frozen out of the garbage
collector's full collections, and the young generation is collected less often."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import gc, sys
before = gc.get_threshold()
import dermis.web.wsgi as w
print(gc.get_freeze_count(), gc.get_threshold()[0], before[0], w.YOUNG_THRESHOLD,
      "dermis.web.clinic.patients.views" in sys.modules)
"""


def test_the_loaded_application_is_frozen_and_collected_less_often():
    env = {**os.environ, "DERMIS_ENV": "development", "DERMIS_LOG_LEVEL": "WARNING"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    frozen, threshold, default, wanted, views_loaded = out.stdout.split()
    assert int(frozen) > 50_000  # Django, the project's modules, the URLconf
    assert int(threshold) == int(wanted) > int(default)
    assert views_loaded == "True"
