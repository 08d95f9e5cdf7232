"""For portal tests: a new patient's booking form, answered as a patient would."""

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
        "telangiectasia",
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


def treated_yesterday(world):
    """Nora, treated by pat yesterday: a signed session of her accepted plan (via the services)."""
    from datetime import timedelta

    from django.utils import timezone

    from tests import factories

    yesterday = timezone.now() - timedelta(days=1)
    with clock.frozen_at(yesterday - timedelta(hours=1)):
        plan = factories.accepted_plan(world.pat, world.nora)
    with clock.frozen_at(yesterday):
        draft = factories.session(world.pat, world.nora, plan=plan, performed_at=yesterday)
        return factories.finalised(world.pat, draft)
