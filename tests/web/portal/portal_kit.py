"""Helpers for portal tests: a new patient's booking form, answered as a patient would."""

from __future__ import annotations

from datetime import date

from django.test import Client
from django.urls import reverse

from dermis.web.clinic import clock
from dermis.web.clinic.portal import services, slots

NO = {
    name: "no"
    for name in (
        "takes_medicines",
        "anticoagulants",
        "immunosuppressed",
        "metal_allergy",
        "pregnant",
        "breastfeeding",
        "keloid_history",
        "hypertrophic_scar_history",
        "herpes_simplex_history",
        "rosacea",
    )
}
ANSWERS = {**NO, "isotretinoin": "never", "diabetes": "none"}
DETAILS = {
    "given_name": "Iris",
    "family_name": "Newton",
    "date_of_birth": "1990-04-02",
    "email": "iris@example.org",
    "phone": "07700 900555",
    "interest": "microneedling",
}


def first_offer(practitioner) -> str:
    return slots.offers(practitioner, clock.now(), services.CONSULTATION_MINUTES)[0].value


def book(client: Client, practitioner, **changes):
    form = {**DETAILS, **ANSWERS, "slot": first_offer(practitioner), **changes}
    return client.post(reverse("portal-book", args=[practitioner.pk]), form)


def months_ago(months: int) -> str:
    today = clock.today()
    year, month = divmod(today.month - 1 - months, 12)
    return date(today.year + year, month + 1, min(today.day, 28)).isoformat()
