"""Signed links a patient follows from a message, without logging in.

- Confirm an appointment (or ask to cancel it): `confirm_url(appointment)`.
- Accept a waitlist offer: `offer_url(offer)`.
Both are `django.core.signing` values (HMAC with the installation's secret, timestamped), so
nothing is stored for them; what they allow is limited by the row they name (an offer is accepted
once; an appointment is confirmed only while it is upcoming).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from dermis.web.clinic.models import Appointment, WaitlistOffer

CONFIRM_SALT = "dermis.appointment.confirm"
OFFER_SALT = "dermis.waitlist.offer"
CONFIRM_MAX_AGE = timedelta(days=60)


class BadLink(Exception):
    """The link is forged, altered or too old."""


def confirm_token(appointment: Appointment) -> str:
    return signing.dumps({"a": appointment.pk}, salt=CONFIRM_SALT)


def offer_token(offer: WaitlistOffer) -> str:
    return signing.dumps({"o": offer.pk}, salt=OFFER_SALT)


def confirm_url(appointment: Appointment) -> str:
    path = reverse("appointment-reply", kwargs={"token": confirm_token(appointment)})
    return settings.SITE_URL + path


def offer_url(offer: WaitlistOffer) -> str:
    return settings.SITE_URL + reverse("waitlist-offer", kwargs={"token": offer_token(offer)})


def _load(token: str, salt: str, key: str, max_age: timedelta) -> int:
    try:
        value = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        raise BadLink from None
    if not isinstance(value, dict) or not isinstance(value.get(key), int):
        raise BadLink
    return value[key]


def appointment_from(token: str) -> Appointment:
    pk = _load(token, CONFIRM_SALT, "a", CONFIRM_MAX_AGE)
    found = Appointment.objects.select_related("clinic", "practitioner", "location").filter(pk=pk)
    if not (appointment := found.first()):
        raise BadLink
    return appointment


def offer_from(token: str) -> WaitlistOffer:
    max_age = timedelta(hours=settings.WAITLIST_OFFER_HOURS)
    pk = _load(token, OFFER_SALT, "o", max_age)
    found = WaitlistOffer.objects.select_related(
        "entry__patient__clinic", "practitioner", "location"
    ).filter(pk=pk)
    if not (offer := found.first()):
        raise BadLink
    return offer
