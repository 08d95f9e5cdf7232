"""Logging: one console handler, JSON lines in production, and nothing about a patient in it.

What keeps patient data out of the logs:

- request lines carry the method, the path, the status and the time, never the query string
  (searches by name, phone or date of birth are GET requests); `RequestLogMiddleware` writes them
  and gunicorn's own access log is off;
- `RedactFilter` strips query strings from Django's development-server lines and replaces the
  `request` object Django attaches to its warnings (its text carries the query string) with the
  method and path;
- Django's `mail_admins` handler is not configured (its reports carry POST data).
"""

from __future__ import annotations

import logging
import re

# "GET /patients/?q=Ada HTTP/1.1" -> "GET /patients/?… HTTP/1.1"; a bare URL too.
_QUERY = re.compile(r"\?[^\s\"']*")
# Calendar feed addresses are secrets: a feed's token is replaced wherever a path is logged.
_FEED_TOKEN = re.compile(r"(/calendar/)[A-Za-z0-9_-]{20,100}(\.ics)")


def redact_path(text: str) -> str:
    """`text` with query strings cut to `?…` and calendar-feed tokens hidden."""
    return _FEED_TOKEN.sub(r"\1…\2", _QUERY.sub("?…", text))


class RedactFilter(logging.Filter):
    """Removes query strings and request objects from every record that passes a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = record.__dict__.pop("request", None)
        if request is not None:
            record.method = getattr(request, "method", "")
            record.path = redact_path(getattr(request, "path", ""))
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_path(a) if isinstance(a, str) else a for a in record.args)
        return True


JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_config(log_format: str, level: str) -> dict:
    """Django's LOGGING: `json` (python-json-logger, one object a line) or `plain` text."""
    formatters = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": JSON_FIELDS,
            "rename_fields": {"levelname": "level", "name": "logger", "asctime": "time"},
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "dermis.web.logs.RedactFilter"}},
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["redact"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # RequestLogMiddleware writes one line per request; these would repeat it.
            "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }
