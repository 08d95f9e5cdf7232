"""WSGI entry point, e.g. `gunicorn dermis.web.wsgi`."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dermis.web.settings")

# The young generation is collected after this many new objects, not Python's 700: a list page
# makes tens of thousands (model rows, template nodes), and each collection costs time.
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Load what every request needs (the URLconf and so every view module), then move all that
    is loaded out of the garbage collector's sight (`gc.freeze`): about 190,000 objects that live
    as long as the process and that a full collection would otherwise walk (160 ms, in the middle
    of a request, measured on the recall worklist)."""
    get_resolver().url_patterns  # noqa: B018  (imports the views)
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


application = get_wsgi_application()
settle()
