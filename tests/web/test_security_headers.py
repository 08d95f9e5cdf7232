"""Production headers and settings: `check --deploy`, HTTPS from one setting, CSP, no-store,
error pages that never fail, and the request-body cap (413)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.urls import reverse

import dermis.web
from dermis.web import error_pages

SECRET = "settings-test-secret-key-0123456789-abcdefghijklmn"
RECORD_KEY = "settings-test-record-key-0123456789-abcdefghijklmn"
TEMPLATES = Path(dermis.web.__file__).parent / "clinic" / "templates"


def test_check_deploy_is_clean_with_production_settings(run_python):
    result = run_python(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')",
        DERMIS_ENV="production",
        DERMIS_SECRET_KEY=SECRET,
        DERMIS_RECORD_KEY=RECORD_KEY,
        DERMIS_PUBLIC_URL="https://clinic.example",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


def test_the_public_url_sets_hosts_origins_and_https(load_settings):
    s = load_settings(
        DERMIS_ENV="production",
        DERMIS_SECRET_KEY=SECRET,
        DERMIS_RECORD_KEY=RECORD_KEY,
        DERMIS_PUBLIC_URL="https://clinic.example:8443/",
    )

    assert "clinic.example" in s["ALLOWED_HOSTS"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["https://clinic.example:8443"]
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"


def test_a_plain_http_address_turns_https_off_and_development_never_has_it(load_settings):
    trial = load_settings(
        DERMIS_ENV="production",
        DERMIS_SECRET_KEY=SECRET,
        DERMIS_RECORD_KEY=RECORD_KEY,
        DERMIS_PUBLIC_URL="http://10.0.0.5",
    )
    dev = load_settings(DERMIS_ENV="development")

    for s in (trial, dev):
        assert s["SECURE_SSL_REDIRECT"] is False
        assert s["SECURE_HSTS_SECONDS"] == 0
        assert "SECURE_PROXY_SSL_HEADER" not in s
    assert "10.0.0.5" in trial["ALLOWED_HOSTS"]


@pytest.mark.parametrize("url", ["clinic.example", "ftp://clinic.example", "https://x.org/app"])
def test_a_public_url_that_is_not_an_origin_is_refused(load_settings, url):
    with pytest.raises(ImproperlyConfigured, match="DERMIS_PUBLIC_URL"):
        load_settings(DERMIS_ENV="development", DERMIS_PUBLIC_URL=url)


def test_production_keeps_database_connections_with_health_checks(load_settings):
    url = "postgres://dermis@db.internal:5432/dermis"

    def production(**extra):
        return load_settings(
            DERMIS_ENV="production",
            DERMIS_SECRET_KEY=SECRET,
            DERMIS_RECORD_KEY=RECORD_KEY,
            **{"DATABASE_URL": url, **extra},
        )

    prod = production()
    pooled = production(DERMIS_DB_PGBOUNCER="1", DERMIS_DB_CONN_MAX_AGE="300")

    assert prod["DATABASES"]["default"]["CONN_MAX_AGE"] == 60
    assert prod["DATABASES"]["default"]["CONN_HEALTH_CHECKS"] is True
    assert not prod["DATABASES"]["default"].get("DISABLE_SERVER_SIDE_CURSORS")
    assert pooled["DATABASES"]["default"]["CONN_MAX_AGE"] == 300
    assert pooled["DATABASES"]["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    # Prepared reads, except behind a PgBouncer not said to keep prepared statements.
    assert prod["DERMIS_DB_PREPARED_READS"] is True
    assert pooled["DERMIS_DB_PREPARED_READS"] is False
    keeping = production(DERMIS_DB_PGBOUNCER="1", DERMIS_DB_PREPARED_READS="1")
    assert keeping["DERMIS_DB_PREPARED_READS"] is True
    # Prepared reads planned once for any values, with options given in the address kept; not
    # asked of a PgBouncer, which refuses options it does not know (a role setting does it).
    generic = "-c plan_cache_mode=force_generic_plan"
    assert prod["DATABASES"]["default"]["OPTIONS"]["options"] == generic
    given = production(DATABASE_URL=f"{url}?options=-c%20work_mem%3D8MB")
    assert given["DATABASES"]["default"]["OPTIONS"]["options"] == f"-c work_mem=8MB {generic}"
    on_sqlite = production(DATABASE_URL="sqlite:////tmp/dermis-settings-test.sqlite3")
    for setting in (pooled, keeping, production(DERMIS_DB_PREPARED_READS="0"), on_sqlite):
        assert "options" not in setting["DATABASES"]["default"].get("OPTIONS", {})


# --- Content-Security-Policy -----------------------------------------------------------------

INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|\son[a-z]+\s*=|\sstyle\s*=|<style"
)


def test_no_template_has_inline_script_handlers_or_styles():
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}"
        for path in TEMPLATES.rglob("*.html")
        if "documents" not in path.parts  # PDFs are drawn on the server, not in a browser
        for match in INLINE.finditer(path.read_text())
    ]

    assert offenders == []


def test_pages_carry_a_strict_policy(client_as):
    response = client_as("pat").get(reverse("patient-list"))

    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


# --- Cache-Control -------------------------------------------------------------------------


def test_patient_pages_and_api_answers_are_never_stored(world, client_as, api_as):
    web = client_as("pat")
    api = api_as("pat")
    answers = [
        web.get(reverse("patient-list"), {"q": "Nora"}),
        web.get(reverse("patient-detail", args=[world.nora.pk])),
        api.get("/api/v1/patients"),
        api.get(f"/api/v1/patients/{world.nora.pk}"),
        api.get("/api/v1/patients/999999"),  # errors too
        client_as("anonymous").get(reverse("login")),
    ]

    for response in answers:
        assert response.status_code in (200, 404)
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]


# --- Error pages -----------------------------------------------------------------------------


def test_an_unknown_host_is_a_400_not_a_500(db):
    response = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert b"Bad request" in response.content


@pytest.mark.parametrize(
    "path", ["/static/clinic/missing.css", "/static/../../etc/passwd", "/static/%2e%2e/settings.py"]
)
def test_missing_static_files_and_traversal_are_404(db, path):
    response = Client(raise_request_exception=False).get(path)

    assert response.status_code == 404
    assert b"root:" not in response.content and b"SECRET_KEY" not in response.content


def test_error_pages_fall_back_to_a_plain_page_when_the_template_fails(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(error_pages, "render_to_string", broken)
    request = RequestFactory().get("/patients/1/")

    for status, handler in [
        (400, error_pages.bad_request),
        (403, error_pages.permission_denied),
        (404, error_pages.page_not_found),
    ]:
        response = handler(request, RuntimeError())
        assert response.status_code == status
        assert f"<h1>{error_pages.TITLES[status]}</h1>" in response.content.decode()
    assert error_pages.server_error(request).status_code == 500


def test_api_errors_from_the_handlers_are_problem_documents(db):
    response = error_pages.server_error(RequestFactory().get("/api/v1/patients"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["status"] == 500


# --- Request body cap ------------------------------------------------------------------------


def test_an_oversized_body_is_refused_with_413_before_it_is_read(
    world, client_as, api_as, settings
):
    settings.MAX_REQUEST_BYTES = 2048
    body = b"x" * 4096

    page = client_as("pat").generic(
        "POST", reverse("patient-create"), body, "application/x-www-form-urlencoded"
    )
    api = api_as("pat").post("/api/v1/patients", body)

    assert page.status_code == 413 and b"too large" in page.content
    assert api.status_code == 413
    assert api["Content-Type"] == "application/problem+json"
    assert json.loads(api.content)["errors"][0]["field"] == "body"


def test_a_form_over_the_in_memory_limit_is_413(world, client_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client_as("pat").post(reverse("patient-create"), {"given_name": "x" * 5000})

    assert response.status_code == 413
