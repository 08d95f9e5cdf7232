"""What each gunicorn worker does once the app is loaded (dermis/web/gunicorn_conf.py), in a
fresh interpreter as a worker has: the test process has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys

WORKER = """
import gc, json, sys
import django
django.setup()
from dermis.web import gunicorn_conf
before = ("dermis.web.fhir.rest.views" in sys.modules, gc.get_freeze_count())
gunicorn_conf.post_worker_init(worker=None)
after = ("dermis.web.fhir.rest.views" in sys.modules, gc.get_freeze_count())
print(json.dumps({"before": before, "after": after}))
"""


def test_a_loaded_worker_imports_its_views_and_freezes_them_out_of_full_collections(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dermis.web.settings",
        "DERMIS_ENV": "development",
        "DERMIS_DATA_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == [False, 0]  # a view module waits for the first request otherwise
    imported, frozen = seen["after"]
    assert imported
    assert frozen > 50_000  # what the app loaded is out of the collector's walks
