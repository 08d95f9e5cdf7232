"""gunicorn's configuration for Dermis, read from the environment.

`dermis serve` (production) runs `gunicorn --config python:dermis.web.gunicorn_conf`; a systemd
unit may do the same directly. Variables (all optional):

- ``DERMIS_BIND``: address(es) to listen on, comma-separated; default ``127.0.0.1:8000`` (the
  reverse proxy in front connects to it). ``dermis serve --host/--port`` set it.
- ``DERMIS_WORKERS``: worker processes; default ``2 × CPUs + 1``. Each holds one database
  connection (kept for ``DERMIS_DB_CONN_MAX_AGE`` seconds).
- ``DERMIS_BACKLOG``: pending connections the kernel queues; default 2048 (the kernel's
  ``net.core.somaxconn`` caps it).
- ``DERMIS_TIMEOUT``: seconds a worker may spend on one request before it is restarted; default 60
  (PDFs and forecast charts are the slowest pages).
- ``DERMIS_GRACEFUL_TIMEOUT``: seconds a worker gets to finish its requests on SIGTERM or a
  reload (SIGHUP); default 30.
- ``DERMIS_KEEPALIVE``: seconds to hold an idle keep-alive connection from the proxy; default 5.
- ``DERMIS_MAX_REQUESTS``: restart a worker after this many requests (with 10 % jitter), a bound
  on slow memory growth; default 50,000, 0 for never. A worker's memory stays level once it has
  served every page (about 180 MB over 37,000 requests, docs/scale.md). A restart loads the
  application again (4.3–4.6 s of a core) and starts with nothing kept (connection, prepared
  reads, kept pages): at the former 2,000 that was 2.2 ms of a core for each request served,
  and under load each worker restarted about every 20 seconds.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"dermis: error: {name}={raw!r}: use a whole number") from None


def default_workers() -> int:
    return multiprocessing.cpu_count() * 2 + 1


wsgi_app = "dermis.web.wsgi:application"
bind = [a.strip() for a in os.environ.get("DERMIS_BIND", "127.0.0.1:8000").split(",") if a.strip()]
workers = _int("DERMIS_WORKERS", default_workers())
worker_class = "sync"
backlog = _int("DERMIS_BACKLOG", 2048)
timeout = _int("DERMIS_TIMEOUT", 60)
graceful_timeout = _int("DERMIS_GRACEFUL_TIMEOUT", 30)
keepalive = _int("DERMIS_KEEPALIVE", 5)
max_requests = _int("DERMIS_MAX_REQUESTS", 50_000)
max_requests_jitter = max(max_requests // 10, 0)
# Each worker loads the app itself: a crash on import shows in that worker, and a reload (HUP)
# picks up new code.
preload_app = False
# Dermis writes one line per request itself, without query strings (dermis.web.logs); gunicorn's
# access log would repeat it with them.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("DERMIS_LOG_LEVEL", "info").strip().lower() or "info"
# The proxy on this machine tells the scheme and client address; nobody else is believed.
forwarded_allow_ips = os.environ.get("DERMIS_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "dermis"


def post_worker_init(worker) -> None:
    """The garbage collector's young generation is collected after a response is sent rather
    than in the middle of the next request (dermis.web.wsgi)."""
    from dermis.web.wsgi import collect_between_requests

    collect_between_requests(starting=True)


def post_request(worker, req, environ, resp) -> None:
    from dermis.web.wsgi import collect_between_requests

    collect_between_requests()


if os.environ.get("DERMIS_LOG_FORMAT", "").strip().lower() != "plain":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger", "asctime": "time"},
            }
        },
        # gunicorn's defaults name both handlers (its root logger uses "console").
        "handlers": {
            name: {"class": "logging.StreamHandler", "formatter": "json", "stream": stream}
            for name, stream in (
                ("console", "ext://sys.stdout"),
                ("error_console", "ext://sys.stderr"),
            )
        },
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"]},
        },
    }
