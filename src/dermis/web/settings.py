"""Django settings for the Dermis web app, read from environment variables.

Environment variables (all optional except where production says otherwise):

- ``DERMIS_ENV``: ``production``, ``development`` or ``test``. When unset it is ``test`` inside a
  pytest run (pytest sets ``PYTEST_VERSION``), ``development`` when ``DERMIS_DEBUG`` is on, and
  ``production`` otherwise. Explicit ``DERMIS_ENV=production`` with ``DERMIS_DEBUG`` on is refused.
- ``DERMIS_DEBUG``: ``1``/``0`` (also true/false, yes/no, on/off); default off.
- ``DERMIS_SECRET_KEY``: required in production: at least 32 characters and not the development
  key, otherwise the settings raise ``ImproperlyConfigured``. In development and test the
  well-known ``DEVELOPMENT_SECRET_KEY`` is used unless a key is given.
- ``DERMIS_RECORD_KEY``: the key of the tamper-evidence seals (records, consents, audit chain);
  required in production (at least 32 characters, not the secret key), derived in development.
- ``DERMIS_ALLOWED_HOSTS``: comma-separated host names; default ``localhost,127.0.0.1,[::1]``
  (Django's test set-up adds ``testserver`` itself).
- ``DERMIS_CSRF_TRUSTED_ORIGINS``: comma-separated origins such as ``https://clinic.example``.
- ``DERMIS_PUBLIC_URL``: the address patients and staff use, e.g. ``https://clinic.example``. Its
  host is allowed, its origin trusted for CSRF; in production an ``https`` address (or none) turns
  on the SSL redirect, HSTS and secure cookies. ``DERMIS_BEHIND_TLS_PROXY`` (default on when
  HTTPS is in force) trusts the proxy's ``X-Forwarded-Proto``. ``DERMIS_HSTS_SECONDS`` (default one
  year), ``DERMIS_HSTS_INCLUDE_SUBDOMAINS`` (default on), ``DERMIS_HSTS_PRELOAD`` (default off).
- ``DERMIS_MAX_REQUEST_BYTES``: largest request body accepted (413 above it); default the photo
  limit plus 1 MiB. ``DERMIS_LOG_FORMAT``: ``json`` (default in production) or ``plain``.
- ``DERMIS_DB_CONN_MAX_AGE``: seconds a PostgreSQL connection is kept (default 60 in production,
  with a health check before reuse; 0 elsewhere). ``DERMIS_DB_PGBOUNCER=1`` when a PgBouncer in
  transaction mode sits between Dermis and PostgreSQL (turns off server-side cursors).
- ``DATABASE_URL``: e.g. ``postgres://user:password@host:5432/dermis``; default SQLite at
  ``DERMIS_DATA_DIR/dermis.sqlite3``.
- ``DERMIS_DATA_DIR``: where local data lives; default ``var/`` in the source checkout (or in the
  working directory for an installed package). Created if missing when SQLite is the default.
- ``DERMIS_TRUSTED_PROXIES``: reverse proxies in front of the app that append to
  X-Forwarded-For (default 0). ``DERMIS_SESSION_MAX_HOURS``: absolute session lifetime (12).
- ``DERMIS_TIME_ZONE``: the clinic's time zone; default ``Europe/London``.
- ``DERMIS_EMAIL_BACKEND``: Django's mail backend; SMTP (``DERMIS_EMAIL_HOST`` and friends), or
  in development with no ``DERMIS_EMAIL_HOST``, files under ``DATA_DIR/mail``.
- ``DERMIS_LOG_LEVEL``: ``debug``, ``info`` (default), ``warning``, ``error`` or ``critical``, in
  either case (gunicorn reads the same variable).
- ``DERMIS_CALIBRATION_DRAWS``: draws per course of the clinic's calibration report; default 400.
- ``DERMIS_FHIR_BASE``: the base URL of this installation's FHIR code systems and identifier
  systems (e.g. ``https://clinic.example/fhir``); default ``https://dermis.invalid/fhir``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from dermis.web.csp import CONTENT_SECURITY_POLICY  # noqa: F401 (a setting)
from dermis.web.env import (
    cache_from_env,
    database_from_env,
    env_bool,
    env_choice,
    env_list,
    env_str,
)
from dermis.web.logs import logging_config

# --- Environment and secrets ----------------------------------------------------------------

DEBUG = env_bool("DERMIS_DEBUG", default=False)

ENVIRONMENTS = ("production", "development", "test")
ENVIRONMENT = env_choice(
    "DERMIS_ENV",
    ENVIRONMENTS,
    default="test" if "PYTEST_VERSION" in os.environ else "development" if DEBUG else "production",
)
PRODUCTION = ENVIRONMENT == "production"
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DERMIS_DEBUG must be off when DERMIS_ENV=production")

# Public on purpose: anything signed with it can be forged, so production refuses it below.
DEVELOPMENT_SECRET_KEY = "dermis-development-secret-key-never-use-in-production"
MIN_SECRET_KEY_LENGTH = 32

SECRET_KEY = env_str("DERMIS_SECRET_KEY", default="")
if PRODUCTION:
    if len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH or SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            f"DERMIS_SECRET_KEY must be a random string of at least {MIN_SECRET_KEY_LENGTH} "
            "characters in production (DERMIS_ENV=production, the default). Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`, or set "
            "DERMIS_ENV=development on a workstation."
        )
elif not SECRET_KEY:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

# Tamper evidence: finalised records, consents and the audit chain are sealed with HMAC-SHA256
# under this key (not SECRET_KEY, so rotating sessions' key does not break old seals). Required
# in production; in development and test it is derived from SECRET_KEY.
DERMIS_RECORD_KEY = env_str("DERMIS_RECORD_KEY", default="")
if PRODUCTION:
    if len(DERMIS_RECORD_KEY) < MIN_SECRET_KEY_LENGTH or DERMIS_RECORD_KEY == SECRET_KEY:
        raise ImproperlyConfigured(
            f"DERMIS_RECORD_KEY must be a random string of at least {MIN_SECRET_KEY_LENGTH} "
            "characters in production, different from DERMIS_SECRET_KEY. Keep it safe and never "
            "change it: records and the audit trail sealed with it are verified with it."
        )
elif not DERMIS_RECORD_KEY:
    DERMIS_RECORD_KEY = "derived:" + SECRET_KEY

ALLOWED_HOSTS = env_list("DERMIS_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DERMIS_CSRF_TRUSTED_ORIGINS", default=[])

# One address decides the host, the CSRF origin and whether HTTPS is enforced.
PUBLIC_URL = env_str("DERMIS_PUBLIC_URL", default="").rstrip("/")
_public = urlsplit(PUBLIC_URL)
if PUBLIC_URL:
    if _public.scheme not in ("https", "http") or not _public.hostname or _public.path:
        raise ImproperlyConfigured(
            f"DERMIS_PUBLIC_URL={PUBLIC_URL!r}: use the clinic's address, e.g. https://clinic.example"
        )
    if _public.hostname not in ALLOWED_HOSTS:
        ALLOWED_HOSTS = [*ALLOWED_HOSTS, _public.hostname]
    CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, f"{_public.scheme}://{_public.netloc}"]
# Production is HTTPS unless the public address says plain http (a trial on a private network).
HTTPS = PRODUCTION and _public.scheme != "http"

# --- Applications ---------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "dermis.web.clinic",
    "ninja",
    "dermis.web.api",
]

MIDDLEWARE = [
    # First: every request gets one log line, and an oversized body is refused before it is read.
    "dermis.web.middleware.RequestLogMiddleware",
    "dermis.web.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "dermis.web.middleware.NoStoreMiddleware",
    # Any 4xx/5xx under /api/ (405s, unreadable requests, 500s) as problem+json.
    "dermis.web.api.middleware.ApiProblemMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, reading the session's device with one plain statement
    "dermis.web.clinic.accounts.middleware.OTPMiddleware",
    # idle and absolute session limits, and the second factor where it is required
    "dermis.web.clinic.accounts.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # 403 and 404 answered to staff on a page or API route are audited (clinic/audit_refusals.py)
    "dermis.web.clinic.audit_refusals.AuditRefusalsMiddleware",
    "dermis.web.clinic.patients.middleware.MergedPatientRedirect",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dermis.web.urls"
WSGI_APPLICATION = "dermis.web.wsgi.application"

TEMPLATES = [
    {
        # Django's engine, its contexts freed once drawn (dermis/web/template_backend.py).
        "BACKEND": "dermis.web.template_backend.Templates",
        "NAME": "django",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            # `{% url %}` in every template, with list pages' links built from each name's shape
            # (dermis/web/url_shapes.py) rather than matched against the URL patterns per row.
            "builtins": [
                "dermis.web.clinic.templatetags.dermis_urls",
                # `{% jinja %}`: a long list's rows drawn by the engine below
                "dermis.web.clinic.templatetags.dermis_jinja",
                # `{% kept_header %}`: the site's header, drawn once for each person
                "dermis.web.clinic.templatetags.dermis_header",
                # `|date` and `|time`: Django's, written faster for the formats pages use
                "dermis.web.clinic.templatetags.dermis_dates",
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dermis.web.clinic.access.staff_context",
            ],
        },
    },
    {
        # The rows of the busiest pages' lists (dermis/web/jinja.py), in each app's jinja2/.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "dermis.web.jinja.environment"},
    },
]

# Django's own, with select menus written in Python (dermis/web/form_renderer.py).
FORM_RENDERER = "dermis.web.form_renderer.FormRenderer"

# --- Database -------------------------------------------------------------------------------

_CHECKOUT = Path(__file__).resolve().parents[3]
_PROJECT_DIR = _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()
DATA_DIR = Path(env_str("DERMIS_DATA_DIR", default=str(_PROJECT_DIR / "var"))).expanduser()
_PGBOUNCER = env_bool("DERMIS_DB_PGBOUNCER", default=False)
# Pages read through prepared statements, planned once per connection (clinic/together.py); off
# behind PgBouncer unless it keeps them (1.21 and later, `max_prepared_statements`: docs/deploy.md).
DERMIS_DB_PREPARED_READS = env_bool("DERMIS_DB_PREPARED_READS", default=not _PGBOUNCER)
DATABASES = {
    "default": database_from_env(
        DATA_DIR,
        production=PRODUCTION,
        prepared_reads=DERMIS_DB_PREPARED_READS,
        pgbouncer=_PGBOUNCER,
    )
}

# --- Cache ----------------------------------------------------------------------------------

# Forecasts and their charts are cached by their inputs and the parameter set's version, shared by
# every worker process: in the database by default (the table `dermis_cache`, made by the
# migrations and by `createcachetable`), in Redis when DERMIS_CACHE_URL (or REDIS_URL) is set
# (`pip install dermis[redis]`).
CACHES = {"default": cache_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Argon2id first: new and changed passwords are hashed with it; older hashes are upgraded at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one user name from one
# address, further attempts are refused for the cool-off time, even with the right password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "dermis.web.clinic.accounts.backends.StaffModelBackend",
]
AXES_FAILURE_LIMIT = int(env_str("DERMIS_LOGIN_FAILURE_LIMIT", default="5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env_str("DERMIS_LOGIN_COOLOFF_MINUTES", default="15")))
# Locked by account (any address) and by address (any account), each after AXES_FAILURE_LIMIT:
# an account cannot be guessed by spreading tries over addresses, and one address cannot lock
# every account (it is locked itself after the limit). The address is the client's, read
# through DERMIS_TRUSTED_PROXIES reverse proxies (clinic/client_address.py).
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "dermis.web.clinic.client_address.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "clinic/locked_out.html"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Accounts (clinic/accounts) ---------------------------------------------------------------

# How many reverse proxies in front of the app each append the client's address to
# X-Forwarded-For (0: none, the connection's address is the client's). Never more than there are:
# an address a client wrote itself would then be believed.
DERMIS_TRUSTED_PROXIES = int(env_str("DERMIS_TRUSTED_PROXIES", default="0"))
# A session ends after this long whatever it does (the idle limit is a clinic setting).
SESSION_COOKIE_AGE = int(env_str("DERMIS_SESSION_MAX_HOURS", default="12")) * 3600
# Django's database sessions, read with one plain statement (accounts/sessions.py).
SESSION_ENGINE = "dermis.web.clinic.accounts.sessions"
OTP_TOTP_ISSUER = "Dermis"
PASSWORD_RESET_TIMEOUT = 60 * 60  # a reset link works for an hour

# --- Security -------------------------------------------------------------------------------

# Production is served over HTTPS (a reverse proxy terminates TLS); development runs on plain
# http://127.0.0.1, where secure-only cookies would make logging in impossible.
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
# A load balancer's health probe speaks plain HTTP to the app itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(env_str("DERMIS_HSTS_SECONDS", default="31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DERMIS_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("DERMIS_HSTS_PRELOAD", default=False)
if env_bool("DERMIS_BEHIND_TLS_PROXY", default=HTTPS):
    # The proxy terminates TLS and says so; gunicorn listens on loopback only (docs/deploy.md).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Joining the browsers' preload list is the clinic's own decision (hstspreload.org), not a default.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("DERMIS_TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves them. Production serves what `collectstatic` (run by `dermis serve`) wrote,
# under content-hashed names cached for a year; elsewhere straight from the apps' folders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "dermis.web.static_storage.DermisStaticStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    *("jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br"),
    *("swf", "flv", "woff", "woff2", "3gp", "3gpp", "mp4", "mpeg", "mov", "avi", "map"),
)

# --- Clinical photos ------------------------------------------------------------------------

# Outside any web root: photos are only ever sent by a view that checks who is asking.
DERMIS_FHIR_BASE = env_str("DERMIS_FHIR_BASE", default="https://dermis.invalid/fhir")
PHOTO_ROOT = Path(env_str("DERMIS_PHOTO_DIR", default=str(DATA_DIR / "photos"))).expanduser()
PHOTO_MAX_BYTES = int(env_str("DERMIS_PHOTO_MAX_BYTES", default=str(10 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Any body above this is refused with 413 before a byte of it is read (RequestBodyLimitMiddleware).
MAX_REQUEST_BYTES = int(
    env_str("DERMIS_MAX_REQUEST_BYTES", default=str(PHOTO_MAX_BYTES + 1024 * 1024))
)

# --- Background tasks and messages ---------------------------------------------------------

# Reminders are queued in the database and sent by `dermis manage reminder_worker`, so a queued
# message survives a restart of the web app or the worker.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# In development with no mail server configured, messages are written as files under
# DATA_DIR/mail (a sign-in link can be opened from there), never printed: they hold patient data.
_LOCAL_MAIL = ENVIRONMENT == "development" and not env_str("DERMIS_EMAIL_HOST", default="")
EMAIL_BACKEND = env_str(
    "DERMIS_EMAIL_BACKEND",
    default="django.core.mail.backends."
    + ("filebased.EmailBackend" if _LOCAL_MAIL else "smtp.EmailBackend"),
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = env_str("DERMIS_EMAIL_HOST", default="localhost")
EMAIL_PORT = int(env_str("DERMIS_EMAIL_PORT", default="25"))
EMAIL_HOST_USER = env_str("DERMIS_EMAIL_USER", default="")
EMAIL_HOST_PASSWORD = env_str("DERMIS_EMAIL_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("DERMIS_EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("DERMIS_FROM_EMAIL", default="Dermis <no-reply@localhost>")
# SMS goes through a backend class with a `send(to, body) -> message id` method; the console
# backend prints messages (development); a clinic plugs in its provider's backend.
SMS_BACKEND = env_str(
    "DERMIS_SMS_BACKEND", default="dermis.web.clinic.reminders.sms.ConsoleSMSBackend"
)
# SMS reminders on or off for the installation; a production worker refuses to start with them
# on and a backend that delivers nothing (the console).
SMS_REMINDERS = env_bool("DERMIS_SMS_REMINDERS", default=True)
TWILIO_ACCOUNT_SID = env_str("DERMIS_TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env_str("DERMIS_TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env_str("DERMIS_TWILIO_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env_str("DERMIS_TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE = env_str("DERMIS_TWILIO_API_BASE", default="https://api.twilio.com")
# Waitlist: how many waiting patients are offered a freed slot at once, and for how long.
WAITLIST_OFFERS_PER_SLOT = int(env_str("DERMIS_WAITLIST_OFFERS_PER_SLOT", default="3"))
WAITLIST_OFFER_HOURS = int(env_str("DERMIS_WAITLIST_OFFER_HOURS", default="12"))
# Links in e-mails (confirm an appointment, accept a waitlist offer) start with this address.
SITE_URL = env_str("DERMIS_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Patient portal ------------------------------------------------------------------------

# Every request for a sign-in link takes at least this long, so a known address and an unknown
# one cannot be told apart by timing (0 in tests).
PORTAL_SIGN_IN_SECONDS = float(
    env_str("DERMIS_PORTAL_SIGN_IN_SECONDS", default="0" if ENVIRONMENT == "test" else "1.5")
)

# --- Outcome model -------------------------------------------------------------------------

# Monte Carlo draws per course in the clinic's calibration report and its refit (more: steadier
# shares, slower page on a large clinic).
DERMIS_CALIBRATION_DRAWS = int(env_str("DERMIS_CALIBRATION_DRAWS", default="400"))

# --- Demo -----------------------------------------------------------------------------------

DEMO_PASSWORD = env_str("DERMIS_DEMO_PASSWORD", default="")

# --- Logging --------------------------------------------------------------------------------

# One console handler, JSON lines in production (dermis.web.logs says what is never logged).
# Django's default `mail_admins` handler is left out: its reports carry the request's POST data,
# which here would be patient data.
LOG_FORMAT = env_choice("DERMIS_LOG_FORMAT", ("json", "plain"), "json" if PRODUCTION else "plain")
# In either case, as gunicorn reads the same variable.
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LOGGING = logging_config(LOG_FORMAT, env_choice("DERMIS_LOG_LEVEL", LOG_LEVELS, "info").upper())
