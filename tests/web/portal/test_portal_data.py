"""The patient's own data: the subject-access export and the erasure request."""

from __future__ import annotations

import json

from django.urls import reverse

from dermis.web.clinic.models import AuditEvent, ErasureRequest
from dermis.web.clinic.patients import services as patients
from tests import factories
from tests.conftest import portal_client
from tests.web.portal.portal_kit import ANSWERS


def test_the_patient_downloads_their_own_record_only(world):
    client = portal_client(world.nora)
    client.post(reverse("portal-health-questions"), ANSWERS)
    response = client.get(reverse("portal-data-download"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["patient"]["given_name"] == "Nora"
    assert len(data["portal_answers"]) == 1
    assert AuditEvent.objects.filter(summary="portal: subject access export").count() == 1
    other = json.loads(portal_client(world.rhys).get(reverse("portal-data-download")).content)
    assert other["patient"]["given_name"] == "Rhys"


def test_erasure_is_asked_once_and_shown_to_the_clinic(world, client_as):
    client = portal_client(world.nora)
    page = client.get(reverse("portal-data")).content.decode()
    assert "at least 8 years" in page
    client.post(reverse("portal-erasure"), {"reason": "moving away"})
    client.post(reverse("portal-erasure"), {"reason": "again"})
    assert ErasureRequest.objects.filter(patient=world.nora).count() == 1
    record = client_as("pat").get(reverse("patient-detail", args=[world.nora.pk])).content
    assert b"The patient asked for erasure" in record
    # the clinic's erasure removes the portal's records too
    factories.working_hours(world.pat)
    erased = patients.erase_patient(
        factories.actor(world.alice), world.nora, confirm=f"erase patient {world.nora.pk}"
    )
    assert erased["erased"]["erasure_requests"] == 1
