"""WSGI entry point, e.g. `gunicorn dermis.web.wsgi`."""

import gc
import io
import logging
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dermis.web.settings")

# The young generation is collected after this many new objects, not Python's 700: a list page
# makes tens of thousands (model rows, template nodes), and each collection costs time. Under
# gunicorn it is collected between requests (`between_requests`): a collection of that many took
# 2.5–3 ms, in the middle of one request in fifteen of the dashboard's (its p95 4.5 ms against a
# p50 of 3.7). Inside a request only a request that makes many more starts one (IN_A_REQUEST).
YOUNG_THRESHOLD = 10_000
IN_A_REQUEST = 100_000


def warm_charts() -> None:
    """Load the charting library and draw a small chart once, as a worker starts: the first
    forecast chart a worker drew took 1.3 s, of which 1.1 s was matplotlib loading itself and its
    fonts (150 ms once loaded). A worker starts about a second later instead."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    try:
        ax.fill_between([0, 1], [0, 1], [1, 2], alpha=0.5, label="band")
        ax.plot([0, 1], [0, 1], label="line")
        ax.axhline(0.5, ls="--")
        ax.set_title("warm")
        ax.legend(loc="upper right", fontsize=8)
        fig.text(0.01, 0.01, "warm", fontsize=7)
        fig.tight_layout()
        fig.savefig(io.BytesIO(), format="svg")
    finally:
        plt.close(fig)


def warm_knowledge() -> None:
    """Read the knowledge base and the outcome model's parameters once, as a worker starts (their
    YAML took 0.6 s of a worker's first forecast, consultation or plan). A file that does not load
    is left to the first request that needs it, which says what is wrong with it."""
    from dermis.core.outcome.parameters import load_parameters
    from dermis.web.clinic.core_inputs import knowledge

    for load in (knowledge, load_parameters):
        try:
            load()
        except Exception:  # reported where it is used, with its reason
            logging.getLogger("dermis").warning("could not load %s at start", load.__name__)


def settle() -> None:
    """Load what every request needs (the URLconf and so every view module, the knowledge base
    and the charting library), then move all that is loaded out of the garbage collector's sight
    (`gc.freeze`): about 190,000 objects that live as long as the process and that a full
    collection would otherwise walk (160 ms, in the middle of a request, measured on the recall
    worklist)."""
    get_resolver().url_patterns  # noqa: B018  (imports the views)
    warm_knowledge()
    warm_charts()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def collect_between_requests(*, starting: bool = False) -> None:
    """Under gunicorn, the collections Python would start in the middle of the next request are
    made after each response is sent (its `post_request` hook, gunicorn_conf.py), by the same
    thresholds; inside a request only past IN_A_REQUEST new objects (set as the worker starts:
    `starting`). The development server and the tests keep Python's own timing."""
    _, middle_limit, old_limit = gc.get_threshold()
    if starting:
        gc.set_threshold(IN_A_REQUEST, middle_limit, old_limit)
        return
    young, middle, old = gc.get_count()
    if young < YOUNG_THRESHOLD:
        return
    generation = 0
    if middle + 1 >= middle_limit:
        generation = 2 if old + 1 >= old_limit else 1
    gc.collect(generation)


application = get_wsgi_application()
settle()
