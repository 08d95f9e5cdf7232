"""What a forecast chart was asked for is kept by each worker by the patient's record version
(`forecasting._asked_key`): the chart asked for again with nothing changed reads none of the
model's inputs, and anything they are drawn from changing (a grade, the phototype, the day) asks
again. Kept only outside a transaction: transactional tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from dermis.web.clinic.models import Patient
from dermis.web.clinic.outcomes import forecasting
from dermis.web.clinic.patients import record_version
from tests.web.test_grades_forecast import give_plan, grade, signed_session, svg_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def asks(monkeypatch):
    """The days the model's inputs were read for (each process's copies and the cache emptied)."""
    asked, real = [], forecasting._asked

    def counted(patient, today):
        asked.append(today)
        return real(patient, today)

    monkeypatch.setattr(forecasting, "_asked", counted)
    for memo in (forecasting._ASKED, forecasting._CHARTS, forecasting._PANELS):
        memo.clear()
    cache.clear()
    yield asked
    for memo in (forecasting._ASKED, forecasting._CHARTS, forecasting._PANELS):
        memo.clear()


def test_a_chart_asked_again_reads_none_of_its_inputs_and_is_the_same(world, client_as, asks):
    active = give_plan(world.nora, world.pat.user)
    signed_session(world, active, 62)
    client = client_as("pat")
    first = svg_of(client, world.nora)
    assert svg_of(client, world.nora) == first and len(asks) == 1
    # What a worker without the copy draws.
    forecasting._ASKED.clear()
    assert svg_of(client, world.nora) == first and len(asks) == 2


def test_what_the_inputs_are_drawn_from_changing_asks_again(world, client_as, asks):
    active = give_plan(world.nora, world.pat.user)
    signed_session(world, active, 62)
    client = client_as("pat")
    first = svg_of(client, world.nora)
    grade(world, active, 1, days_ago=30)  # a row of the patient's
    graded = svg_of(client, world.nora)
    assert len(asks) == 2 and graded != first
    Patient.objects.filter(pk=world.nora.pk).update(fitzpatrick="")  # the patient's own row
    gone = client.get(f"/patients/{world.nora.pk}/forecast.svg")
    assert gone.status_code == 404 and b"phototype" in gone.content and len(asks) == 3
    again = client.get(f"/patients/{world.nora.pk}/forecast.svg")
    assert again.content == gone.content and len(asks) == 3  # the reason is kept too


def test_another_day_asks_again(world, asks):
    active = give_plan(world.nora, world.pat.user)
    signed_session(world, active, 62)
    nora = Patient.objects.select_related("clinic").get(pk=world.nora.pk)
    version = record_version.of(nora.pk, nora.clinic_id)
    today = timezone.localdate()
    first = forecasting.patient_forecast_svg(nora, today, version)
    assert forecasting.patient_forecast_svg(nora, today, version) == first and len(asks) == 1
    forecasting.patient_forecast_svg(nora, today + timedelta(days=1), version)
    assert asks == [today, today + timedelta(days=1)]


def test_a_chart_asked_inside_a_transaction_reads_its_inputs_every_time(world, client_as, asks):
    active = give_plan(world.nora, world.pat.user)
    signed_session(world, active, 62)
    client = client_as("pat")
    with transaction.atomic():
        assert svg_of(client, world.nora) == svg_of(client, world.nora)
    assert len(asks) == 2 and not forecasting._ASKED
