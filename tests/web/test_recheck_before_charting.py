"""A screening older than the clinic's limit: charting asks for the chair-side "anything changed?"
check right on the chart page, and goes ahead once it is recorded with nothing changed."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.models import ScreeningRecheck, TreatmentSession
from tests import factories
from tests.web.test_parity_clinical import _chart_bodies


def test_an_old_screening_is_checked_at_the_chair_before_charting(world, client_as):
    old = timezone.localdate() - timedelta(days=120)
    consult = factories.consultation(world.pat, world.nora, as_of=old)
    factories.accept(world.pat, consult)
    page, _ = _chart_bodies({"cheeks": 1.0})
    url = reverse("session-create", args=[world.nora.pk])
    client = client_as("pat")

    refused = client.post(url, page)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Anything changed since the screening?" in html
    assert reverse("patient-recheck", args=[world.nora.pk]) in html
    assert not TreatmentSession.objects.exists()

    back = client.post(reverse("patient-recheck", args=[world.nora.pk]), {"next": url})
    assert back.status_code == 302 and back["Location"] == url
    assert ScreeningRecheck.objects.get(patient=world.nora).changed is False

    assert client.post(url, page).status_code == 302
    assert TreatmentSession.objects.count() == 1


def test_a_change_at_the_chair_still_stops_the_session(world, client_as):
    old = timezone.localdate() - timedelta(days=120)
    factories.accept(world.pat, factories.consultation(world.pat, world.nora, as_of=old))
    page, _ = _chart_bodies({"cheeks": 1.0})
    url = reverse("session-create", args=[world.nora.pk])
    client = client_as("pat")
    recheck = reverse("patient-recheck", args=[world.nora.pk])
    fields = client.post(url, page).context["recheck_form"].fields
    question = next(name for name in fields if name != "note")
    client.post(recheck, {"next": url, question: "on"})
    again = client.post(url, page)
    assert again.status_code == 400
    assert "new consultation" in again.content.decode()
    assert not TreatmentSession.objects.exists()
