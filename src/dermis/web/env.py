"""Reading settings from the environment: typed variables, the database and the cache (for
settings.py, which documents each variable)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def env_str(name: str, default: str) -> str:
    """The variable's value with surrounding spaces removed, or `default` when unset or blank."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable; anything unrecognised is a configuration error, not a silent `False`."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: use 1 or 0")


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated variable as a list, blanks dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r}: use one of {', '.join(choices)}")
    return value


def database_from_env(
    data_dir: Path, *, production: bool, prepared_reads: bool, pgbouncer: bool
) -> dict:
    """The default database: `DATABASE_URL` if set, else SQLite in `data_dir`."""
    url = env_str("DATABASE_URL", default="")
    if not url:
        data_dir.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": data_dir / "dermis.sqlite3",
            # Several staff saving at once: take the write lock at BEGIN and let readers continue
            # (WAL), rather than failing mid-transaction with "database is locked".
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "timeout": 20,
            },
            # A file, not Django's shared-cache in-memory default: concurrency and browser tests
            # need real locking between connections. One per test process, so runs can overlap.
            "TEST": {"NAME": str(data_dir / f"test-dermis-{os.getpid()}.sqlite3")},
        }
    try:
        # The parser's messages name the scheme at most, never the password.
        # Production (gunicorn: one thread per worker) keeps its connection for a minute and checks
        # it before reuse; elsewhere connections close after each request (the development server
        # starts a thread per request and would otherwise keep one open each).
        max_age = int(env_str("DERMIS_DB_CONN_MAX_AGE", default="60" if production else "0"))
        config = dj_database_url.parse(url, conn_max_age=max_age, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from None
    config = dict(config)
    if prepared_reads and not pgbouncer and "postgresql" in config.get("ENGINE", ""):
        # A prepared read planned once for any values: left to choose, PostgreSQL planned some
        # anew on every run (the worklist's three, 7 ms), their generic plans estimated dearer
        # though they run as fast. (Behind PgBouncer: `ALTER ROLE`, docs/deploy.md.)
        options = config.setdefault("OPTIONS", {})
        given = options.get("options", "")
        options["options"] = f"{given} -c plan_cache_mode=force_generic_plan".strip()
    if pgbouncer:
        # Transaction pooling hands each transaction any server connection: a cursor held open
        # across transactions would be lost. (Django binds parameters client-side by default, so
        # no prepared statements are left behind either.)
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    # One test database per test process, so two runs on one server do not drop each other's.
    config["TEST"] = {"NAME": f"test_{config.get('NAME') or 'dermis'}_{os.getpid()}"}
    return config


def cache_from_env() -> dict:
    url = env_str("DERMIS_CACHE_URL", default="") or env_str("REDIS_URL", default="")
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ImproperlyConfigured(
                "DERMIS_CACHE_URL must be a redis://, rediss:// or unix:// URL"
            )
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    return {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "dermis_cache",
        "OPTIONS": {"MAX_ENTRIES": int(env_str("DERMIS_CACHE_MAX_ENTRIES", default="5000"))},
    }
