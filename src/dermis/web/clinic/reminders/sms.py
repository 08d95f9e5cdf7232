"""Sending text messages: one small interface, so a clinic can plug in its provider.

A backend is a class with `send(to, body, *, reference="") -> str` returning the provider's
message id, and raising `SMSError` when the message was not accepted (the reminder is then tried
again later). `reference` is deterministic per reminder: a provider that supports idempotency keys
can use it to drop a duplicate. `settings.SMS_BACKEND` names the class (dotted path).
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from typing import Protocol, TextIO

from django.conf import settings
from django.utils.module_loading import import_string


class SMSError(Exception):
    """The provider did not accept the message; nothing was sent.

    `permanent`: trying again will not help (a bad number, a refused sender); the reminder is
    marked failed at once. Otherwise (network, provider busy) it is tried again later. The
    message names codes only, never the number or the text.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SMSBackend(Protocol):
    def send(self, to: str, body: str, *, reference: str = "") -> str: ...


def _message_id(to: str, body: str, reference: str) -> str:
    return reference or hashlib.sha256(f"{to}\n{body}".encode()).hexdigest()[:32]


class ConsoleSMSBackend:
    """Development: print each message to a stream (stdout), like Django's console e-mail backend.

    Not for production: the stream then holds phone numbers and message text.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, to: str, body: str, *, reference: str = "") -> str:
        message_id = _message_id(to, body, reference)
        self.stream.write(f"SMS to {to} (id {message_id})\n{body}\n{'-' * 40}\n")
        self.stream.flush()
        return message_id


@dataclass(frozen=True)
class SentSMS:
    to: str
    body: str
    reference: str


class MemorySMSBackend:
    """Tests: keep messages in `MemorySMSBackend.outbox` (class-wide, like Django's locmem mail)."""

    outbox: list[SentSMS] = []  # shared on purpose, so a test can read it

    def send(self, to: str, body: str, *, reference: str = "") -> str:
        self.outbox.append(SentSMS(to, body, reference))
        return _message_id(to, body, reference)


def get_sms_backend(path: str | None = None) -> SMSBackend:
    """An instance of the backend named by `path` or `settings.SMS_BACKEND`."""
    return import_string(path or settings.SMS_BACKEND)()


# Backends that do not deliver anything: fine on a workstation, refused by a production worker.
NON_DELIVERING = frozenset(
    {
        "dermis.web.clinic.reminders.sms.ConsoleSMSBackend",
        "dermis.web.clinic.reminders.sms.MemorySMSBackend",
    }
)


def production_problem() -> str | None:
    """Why a production worker must not start with these SMS settings, or None when it may."""
    if not (settings.PRODUCTION and settings.SMS_REMINDERS):
        return None
    if settings.SMS_BACKEND in NON_DELIVERING:
        return (
            f"SMS reminders are on but DERMIS_SMS_BACKEND is {settings.SMS_BACKEND}, which "
            "delivers nothing (and would write phone numbers and message text to the log). Set "
            "DERMIS_SMS_BACKEND=dermis.web.clinic.reminders.twilio.TwilioSMSBackend with its "
            "DERMIS_TWILIO_* settings, or turn SMS reminders off with DERMIS_SMS_REMINDERS=0."
        )
    return None
