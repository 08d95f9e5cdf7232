"""Patients sign in with a one-time link sent to the email on their record.

A link carries a random token; only its SHA-256 is stored. It works once, for 15 minutes, and
only while the clinic has the portal on. Requests are limited per address and per client IP
(both kept as SHA-256 only). An unknown address gets the same answer, after the same time, as
a known one: the request only queues the email on the outbox (`dermis worker` sends it, like the
reminders), and the view pads every request to `PORTAL_SIGN_IN_SECONDS`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import get_random_string

from dermis.web.clinic import clock
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import Patient, PortalLink, PortalThrottle, Reminder
from dermis.web.clinic.portal.selectors import portal_enabled
from dermis.web.clinic.reminders.render import Message

LINK_MINUTES = 15
WINDOW = timedelta(minutes=15)
PER_ADDRESS = 3
PER_IP = 10
SESSION_KEY = "portal_patient_id"
KEY_PREFIX = "portal-link:"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalised(email: str) -> str:
    return (email or "").strip().casefold()


def _throttle_keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    keys = [(sha256("email:" + email), PER_ADDRESS)]
    if ip:
        keys.append((sha256("ip:" + ip), PER_IP))
    return keys


def _check_rate(email: str, ip: str | None, now: datetime) -> None:
    """Count this request; 429 when the address or the IP asked too often in the window."""
    keys = _throttle_keys(email, ip)
    with transaction.atomic():
        PortalThrottle.objects.filter(at__lt=now - WINDOW).delete()
        too_many = any(
            PortalThrottle.objects.filter(key_sha256=key, at__gte=now - WINDOW).count() >= limit
            for key, limit in keys
        )
        PortalThrottle.objects.bulk_create([PortalThrottle(key_sha256=k, at=now) for k, _ in keys])
    if too_many:
        raise ServiceError(
            "email",
            f"too many sign-in requests: please wait {LINK_MINUTES} minutes and try again",
            status=429,
            code="rate-limited",
        )


def patients_with(email: str) -> list[Patient]:
    """Patient records with this address at clinics whose portal is on."""
    if not email:
        return []
    rows = Patient.objects.filter(email__iexact=email).select_related("clinic").order_by("pk")
    return [p for p in rows if portal_enabled(p.clinic)]


def issue_link(patient: Patient, now: datetime) -> str:
    """A new single-use token for `patient` (its hash stored); returns the token."""
    token = secrets.token_urlsafe(32)
    PortalLink.objects.create(
        patient=patient,
        token_sha256=sha256(token),
        created_at=now,
        expires_at=now + timedelta(minutes=LINK_MINUTES),
    )
    return token


def request_link(email: str, *, ip: str | None, path: str = "") -> int:
    """Queue a sign-in email for every portal record with this address; returns how many (for
    tests only: the page says the same thing whatever the number). 429 when rate-limited; 422
    when the address is not an address.

    Nothing is sent here: a known address costs the request one outbox row, so it answers as
    quickly as an unknown one however slow the mail server is. The worker issues the token and
    sends the email (`link_message`)."""
    email = normalised(email)
    if "@" not in email or len(email) > 254:
        raise ServiceError("email", "enter the email address you gave the clinic")
    now = clock.now()
    _check_rate(email, ip, now)
    queued = 0
    for patient in patients_with(email):
        with transaction.atomic():
            row = Reminder.objects.create(
                key=f"{KEY_PREFIX}{patient.pk}:{get_random_string(24)}:email",
                patient=patient,
                kind=Reminder.Kind.PORTAL_LINK,
                channel=Reminder.Channel.EMAIL,
                due_at=now,
                next_try_at=now,
            )
            actor = Actor.public(patient.clinic, path=path, ip_address=ip)
            record(actor, Action.CREATE, patient, summary=f"portal sign-in link queued ({row.pk})")
        queued += 1
    return queued


def link_instead(row: Reminder) -> tuple[str, str] | None:
    """(status, reason) when a queued sign-in email must not be sent now; None to send it.
    A request older than the link's lifetime is dropped: the patient has asked again or given up.
    The patient's choice about reminders does not apply: they asked for this email."""
    Status = Reminder.Status
    if row.created_at <= clock.now() - timedelta(minutes=LINK_MINUTES):
        return Status.CANCELLED, "the request is more than 15 minutes old"
    if not portal_enabled(row.patient.clinic):
        return Status.CANCELLED, "the portal is off"
    if not row.patient.email:
        return Status.FAILED, "no e-mail address"
    return None


def link_message(row: Reminder) -> Message:
    """A new link for the row's patient (its hash stored) and the email that carries it. Each
    attempt issues its own link: a token exists in clear only in the message sent."""
    patient = row.patient
    token = issue_link(patient, clock.now())
    url = settings.SITE_URL + reverse("portal-sign-in-link", args=[token])
    body = render_to_string(
        "clinic/portal/email/sign_in.txt",
        {"clinic": patient.clinic, "url": url, "minutes": LINK_MINUTES},
    )
    return Message(f"Your sign-in link for {patient.clinic.name}", body)


def redeem(token: str, *, ip: str | None = None, path: str = "") -> Patient:
    """The patient whose link this is, marking it used. 410 when the link is unknown, used,
    expired, or its clinic turned the portal off (the same words for each)."""
    gone = ServiceError(
        "token",
        "this sign-in link has expired or was already used: ask for a new one",
        status=410,
        code="link-gone",
    )
    if not token or len(token) > 100:
        raise gone
    now = clock.now()
    with transaction.atomic():
        link = (
            PortalLink.objects.select_for_update()
            .select_related("patient__clinic")
            .filter(token_sha256=sha256(token))
            .first()
        )
        if link is None or link.used_at is not None or link.expires_at <= now:
            raise gone
        patient = link.patient
        if not portal_enabled(patient.clinic):
            raise gone
        link.used_at = now
        link.save(update_fields=["used_at"])
        actor = Actor.of_patient(patient, path=path, ip_address=ip)
        record(actor, Action.VIEW, patient, summary="portal sign-in")
    return patient
