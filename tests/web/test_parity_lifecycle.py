"""The web and the API give the same answer to each lifecycle step: the same status code (a
redirect on the web is the API's 200) and, when refused, the same words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse

from dermis.web.clinic import clock
from dermis.web.clinic.models import Appointment
from tests import factories

CASES = [
    # persona, status, minutes after the appointment's start ("now"), reason
    ("fran", "confirmed", -3 * 24 * 60, ""),
    ("fran", "arrived", -3 * 24 * 60, ""),  # not before its day
    ("fran", "arrived", -20, ""),
    ("fran", "no_show", -20, ""),  # not before it starts
    ("fran", "no_show", 20, ""),
    ("fran", "completed", 50, ""),  # front desk may not
    ("pat", "in_treatment", 5, ""),
    ("pat", "completed", 50, ""),
    ("fran", "cancelled", -3 * 24 * 60, ""),  # a reason is needed
    ("fran", "cancelled", -3 * 24 * 60, "asked to"),
    ("alice", "cancelled", -60, "unwell"),  # late
]


def _web(client, appointment, status, reason):
    if status == "cancelled":
        url = reverse("appointment-cancel", args=[appointment.pk])
        response = client.post(url, {"reason": reason})
        form = response.context["form"] if response.status_code != 302 else None
    else:
        url = reverse("appointment-status", args=[appointment.pk])
        response = client.post(url, {"status": status})
        form = response.context["form"] if response.status_code not in (302, 403) else None
    code = 200 if response.status_code == 302 else response.status_code
    message = ""
    if form is not None and form.errors:
        message = next(iter(form.errors.values()))[0].rstrip(".").lower()
    return code, message


def _api(client, appointment, status, reason):
    response = client.post(
        f"/api/v1/appointments/{appointment.pk}/status", {"status": status, "reason": reason}
    )
    message = ""
    if response.status_code in (409, 422):
        message = response.json()["errors"][0]["message"].rstrip(".").lower()
    return response.status_code, message


@pytest.mark.parametrize(("persona", "status", "minutes", "reason"), CASES)
def test_each_step_answers_the_same(persona, status, minutes, reason, world, client_as, api_as):
    factories.working_hours(world.pat)
    appointment = factories.appointment(
        world.pat, world.nora, factories.next_weekday_at(10, days_ahead=4), by=world.fran
    )
    results = []
    for door, client in ((_web, client_as(persona)), (_api, api_as(persona))):
        with transaction.atomic(), clock.frozen_at(appointment.start + timedelta(minutes=minutes)):
            results.append(door(client, appointment, status, reason))
            appointment.refresh_from_db()
            results.append(appointment.status)
            transaction.set_rollback(True)
    web, web_after, api, api_after = results
    assert web == api, (web, api)
    assert web_after == api_after
    assert (web_after == status) is (web[0] == 200)
    assert Appointment.objects.get(pk=appointment.pk).status == "booked"
