"""A patient's email and phone carry care advice: front desk may fill in a missing one but not
replace one; clinical staff may. The page and the API give the same answer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dermis.web.clinic.models import Patient
from tests.web.test_parity import _api, _both, _web

MESSAGE = "can be changed only by a practitioner or the clinic admin once set"


def _page(nora, **change) -> dict:
    return {
        "given_name": nora.given_name, "family_name": nora.family_name,
        "date_of_birth": nora.date_of_birth.isoformat(), "sex": nora.sex, "phone": nora.phone,
        "email": nora.email, "email_reminders": "on", **change,
    }  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [{"email": "someone.else@example.net"}, {"phone": "07700 900999"}, {"email": ""}],
    ids=["email", "phone", "email-removed"],
)
def test_front_desk_cannot_replace_a_contact_detail_on_either_door(
    change, world, client_as, api_as
):
    nora = world.nora
    Patient.objects.filter(pk=nora.pk).update(phone="07700 900123")
    nora.refresh_from_db()
    url = reverse("patient-edit", args=[nora.pk])
    web, api = _both(
        lambda: _web(client_as("fran").post(url, _page(nora, **change)), "form"),
        lambda: _api(api_as("fran").patch(f"/api/v1/patients/{nora.pk}", change)),
    )
    assert web == api and not web.ok
    assert web.field == next(iter(change)) and MESSAGE in web.message
    nora.refresh_from_db()
    assert nora.email == "nora@example.org" and nora.phone == "07700 900123"


def test_front_desk_may_fill_in_a_missing_phone(world, api_as):
    Patient.objects.filter(pk=world.nora.pk).update(phone="")
    response = api_as("fran").patch(f"/api/v1/patients/{world.nora.pk}", {"phone": "07700 1"})
    assert response.status_code == 200
    assert Patient.objects.get(pk=world.nora.pk).phone == "07700 1"


@pytest.mark.parametrize("persona", ["pat", "alice"])
def test_clinical_staff_may_change_the_email(persona, world, client_as):
    url = reverse("patient-edit", args=[world.nora.pk])
    response = client_as(persona).post(url, _page(world.nora, email="nora.q@example.net"))
    assert response.status_code == 302
    assert Patient.objects.get(pk=world.nora.pk).email == "nora.q@example.net"
