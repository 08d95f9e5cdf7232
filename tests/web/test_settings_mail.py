"""Where mail goes: SMTP in production and wherever a mail server is named; in development with
none, files under DATA_DIR/mail (the demo's sign-in links can be opened; nothing is printed)."""

from __future__ import annotations

SMTP = "django.core.mail.backends.smtp.EmailBackend"
FILES = "django.core.mail.backends.filebased.EmailBackend"


def test_development_without_a_mail_server_writes_files(load_settings, tmp_path):
    loaded = load_settings(DERMIS_ENV="development")
    assert loaded["EMAIL_BACKEND"] == FILES
    assert loaded["EMAIL_FILE_PATH"] == loaded["DATA_DIR"] / "mail"


def test_a_named_mail_server_or_production_uses_smtp(load_settings):
    named = load_settings(DERMIS_ENV="development", DERMIS_EMAIL_HOST="mail.example.org")
    assert named["EMAIL_BACKEND"] == SMTP
    production = load_settings(DERMIS_SECRET_KEY="k" * 40, DERMIS_RECORD_KEY="r" * 40)
    assert production["EMAIL_BACKEND"] == SMTP
