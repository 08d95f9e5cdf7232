"""A patient's charted sessions over the API: each with its areas and addenda (and their
authors), newest first, read in one round trip where PostgreSQL takes several statements as one
string, and in the same number of queries whatever the number of sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dermis.web.clinic import models as m
from tests.api.api_records import journey


@pytest.fixture
def record(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return journey(world.nora, world.pat, settings.PHOTO_ROOT)


def _more_sessions(world, record, count: int) -> None:
    """`count` signed sessions before the journey's, each with two areas, every other one with
    an addendum by the practitioner."""
    for week in range(1, count + 1):
        session = m.TreatmentSession.objects.create(
            patient=world.nora, plan=record.plan, practitioner=world.pat,
            performed_at=record.session.performed_at - timedelta(weeks=week),
            modality="microneedling", device="automated_pen",
        )  # fmt: skip
        for area, depth in (("forehead", "0.5"), ("cheeks", "1.0")):
            m.SessionArea.objects.create(session=session, area=area, depth_mm=depth, passes=2)
        if week % 2:
            for text in ("Settled by day 3.", "Asked about sun cream."):
                m.SessionAddendum.objects.create(
                    session=session, author=world.pat.user, text=f"{text} (week {week})"
                )
        m.TreatmentSession.objects.filter(pk=session.pk).update(status="final")


def _listed(api, world):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/api/v1/patients/{world.nora.pk}/sessions")
    assert response.status_code == 200, response.content
    return response.json(), captured.captured_queries


def test_the_list_is_each_session_as_its_own_page_gives_it_newest_first(world, api_as, record):
    _more_sessions(world, record, 4)
    api = api_as("pat")

    listed, _ = _listed(api, world)

    # Each entry is what the one-session endpoint (read through the ORM's prefetching) gives.
    assert listed == [api.get(f"/api/v1/sessions/{s['id']}").json() for s in listed]
    assert len(listed) == 5
    times = [s["performed_at"] for s in listed]
    assert times == sorted(times, reverse=True)
    assert [a["area"] for a in listed[1]["areas"]] == ["cheeks", "forehead"]
    assert [a["text"] for a in listed[1]["addenda"]] == [
        "Settled by day 3. (week 1)",
        "Asked about sun cream. (week 1)",
    ]
    assert {a["author"] for a in listed[1]["addenda"]} == {world.pat.user.get_username()}
    assert listed[2]["addenda"] == []
    assert listed[0]["addenda"][0]["author"] == ""  # an addendum with no author


@pytest.mark.django_db(transaction=True)  # outside a transaction, as a request runs
def test_the_reads_do_not_grow_with_the_record_and_go_together_on_postgresql(world, api_as, record):
    api = api_as("pat")
    _listed(api, world)  # the first request of a token does more (its last use)
    _, small = _listed(api, world)
    _more_sessions(world, record, 6)
    listed, large = _listed(api, world)

    assert len(listed) == 7
    assert len(small) == len(large)
    if connection.vendor == "postgresql":
        together = [q["sql"] for q in large if "clinic_sessionaddendum" in q["sql"]]
        assert len(together) == 1
        assert "clinic_treatmentsession" in together[0] and "clinic_sessionarea" in together[0]
        assert '"clinic_patient"' in together[0]  # with the patient: one round trip for both


def test_another_clinics_patient_is_not_found_though_their_sessions_were_asked(
    world, api_as, record
):
    """Their sessions go with the patient's read, by the id asked for; none is shown."""
    response = api_as("oscar").get(f"/api/v1/patients/{world.nora.pk}/sessions")
    assert response.status_code == 404
    assert "LOT" not in response.content.decode() and "cheeks" not in response.content.decode()


def test_a_patient_without_sessions_lists_none(world, api_as):
    listed, _ = _listed(api_as("pat"), world)

    assert listed == []
