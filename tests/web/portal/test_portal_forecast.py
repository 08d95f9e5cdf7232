"""The patient's own forecast, in plain words, with its uncertainty."""

from __future__ import annotations

from django.urls import reverse

from tests import factories
from tests.conftest import portal_client


def test_the_forecast_is_explained_in_plain_words(world, settings, tmp_path):
    factories.accepted_plan(world.pat, world.nora)
    client = portal_client(world.nora)
    page = client.get(reverse("portal-forecast"))
    text = page.content.decode()
    assert "This is a planning estimate, not a promise." in text
    assert "8 in 10 people" in text
    assert "Outcome model parameters" not in text.split("band-note")[1].split("small muted")[0]
    chart = client.get(reverse("portal-forecast-chart"))
    assert chart.status_code == 200 and chart["Content-Type"] == "image/svg+xml"


def test_no_forecast_before_a_plan(world):
    client = portal_client(world.nora)
    assert "There is no estimate yet" in client.get(reverse("portal-forecast")).content.decode()
    assert client.get(reverse("portal-forecast-chart")).status_code == 404
