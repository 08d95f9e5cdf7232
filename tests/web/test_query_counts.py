"""The record page and the FHIR export make the same number of queries whatever the size of the
record (2 or 8 treated visits): no query per session, appointment or area."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dermis.web.clinic.models import Appointment, SessionArea, TreatmentSession
from tests.web.full_world import journey

RECORD_PAGE_MAX = 24  # the panels share one read of the plan, consultations, sessions and grades
FHIR_EXPORT_MAX = 20  # with the API request's own (token, staff, audit)


def _more_visits(world, record: dict, count: int) -> None:
    """`count` more weekly treated visits before the journey's, each with an appointment, a
    signed session and two areas."""
    first = record["appointment"]
    for week in range(1, count + 1):
        start = first.start - timedelta(weeks=week)
        visit = Appointment.objects.create(
            clinic=world.northgate, patient=world.nora, practitioner=world.pat,
            plan=record["plan"], start=start, end=start + timedelta(hours=1),
        )  # fmt: skip
        session = TreatmentSession.objects.create(
            patient=world.nora, plan=record["plan"], practitioner=world.pat, appointment=visit,
            performed_at=start, modality="microneedling", device="automated_pen",
        )  # fmt: skip
        for area in ("cheeks", "forehead"):
            SessionArea.objects.create(session=session, area=area, depth_mm=1.0, passes=2)
        TreatmentSession.objects.filter(pk=session.pk).update(status="final")


@pytest.fixture
def record_of_size(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"

    def make(visits: int) -> None:
        record = journey(world.nora, world.pat)
        _more_visits(world, record, visits - 1)

    return make


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", ["pat", "fran"])
def test_the_record_page_reads_a_constant_number_of_queries(
    persona, world, record_of_size, client_as
):
    client = client_as(persona)
    url = reverse("patient-detail", args=[world.nora.pk])
    record_of_size(2)
    client.get(url)  # the first request of a session does more (last login, token use)
    small = _queries(lambda: client.get(url))
    _more_visits(world, {"appointment": Appointment.objects.order_by("start").first(),
                         "plan": world.nora.plans.get()}, 6)  # fmt: skip
    client.get(url)  # the forecast's inputs changed: the first view fills the shared cache
    large = _queries(lambda: client.get(url))
    assert world.nora.sessions.count() == 9  # the journey's two and seven signed visits
    assert small == large <= RECORD_PAGE_MAX, (small, large)


def test_the_fhir_export_reads_a_constant_number_of_queries(world, record_of_size, api_as):
    api = api_as("pat")
    url = f"/api/v1/patients/{world.nora.pk}/fhir"
    record_of_size(2)
    api.get(url)  # the first request of a session does more (last login, token use)
    small = _queries(lambda: api.get(url))
    _more_visits(world, {"appointment": Appointment.objects.order_by("start").first(),
                         "plan": world.nora.plans.get()}, 6)  # fmt: skip
    api.get(url)
    large = _queries(lambda: api.get(url))
    entries = api.get(url).json()["entry"]
    assert sum(e["resource"]["resourceType"] == "Appointment" for e in entries) == 8
    assert small == large <= FHIR_EXPORT_MAX, (small, large)


def test_the_availability_page_reads_a_constant_number_of_queries(world, client_as):
    """One form per practitioner, each with a location choice per weekday: the locations, hours
    and time off are read once for the page, not once per practitioner or per day."""
    from datetime import time

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dermis.web.clinic.models import Role, StaffMember, TimeOff, WorkingHours

    client = client_as("alice")  # the admin: every practitioner's hours form
    url = reverse("availability")
    client.get(url)
    small = _queries(lambda: client.get(url))
    for k in range(4):
        user = get_user_model().objects.create(username=f"extra-practitioner-{k}")
        staff = StaffMember.objects.create(
            user=user, clinic=world.northgate, role=Role.PRACTITIONER, display_name=f"P{k}"
        )
        WorkingHours.objects.create(staff=staff, weekday=k, start=time(9), end=time(17))
        start = timezone.now() + timedelta(days=k + 1)
        TimeOff.objects.create(staff=staff, start=start, end=start + timedelta(hours=2))
    large = _queries(lambda: client.get(url))
    page = client.get(url)
    assert len(page.context["people"]) == 6  # alice, pat and the four added
    assert small == large


def test_read_once_reads_the_active_plan_once_and_forgets_it_after(world, record_of_size):
    from dermis.web.clinic.core_inputs import active_plan, read_once

    def counted() -> int:
        with CaptureQueriesContext(connection) as captured:
            active_plan(patient)
        return len(captured)

    record_of_size(2)
    patient = world.nora
    with read_once(patient):
        first, again = counted(), counted()
    assert (first, again, counted()) == (1, 0, 1)
    assert active_plan(patient) == patient.plans.get(status="active")
