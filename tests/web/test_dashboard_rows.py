"""The dashboard lists today's appointments; on a busy day, those still to come or still open,
at most `ROWS`, with the day's total and the diary a link away."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.models import Appointment
from dermis.web.clinic.scheduling.views.dashboard import ROWS


def _today_at(minutes: int) -> datetime:
    midnight = datetime.combine(
        timezone.localdate(), time.min, tzinfo=timezone.get_current_timezone()
    )
    return midnight + timedelta(minutes=minutes)


def _day(world, count: int, status: str = "booked", practitioner=None) -> None:
    for i in range(count):  # five-minute appointments from 00:05, each its own time
        start = _today_at(5 + 5 * i)
        Appointment.objects.create(
            clinic=world.northgate, patient=world.nora, practitioner=practitioner or world.pat,
            start=start,
            end=start + timedelta(minutes=5), status=status,
        )  # fmt: skip


def test_a_quiet_day_is_listed_whole(world, client_as):
    _day(world, 3, status="completed")
    page = client_as("fran").get(reverse("dashboard"))
    assert len(page.context["today"]["shown"]) == 3
    assert "The diary</a> shows them all" not in page.content.decode()


def test_a_busy_day_lists_what_needs_attention_and_counts_the_rest(world, client_as):
    _day(world, ROWS + 10, status="completed")  # done, early in the day
    later = _today_at(23 * 60)
    if later > timezone.now():
        Appointment.objects.create(
            clinic=world.northgate, patient=world.nora, practitioner=world.pat, start=later,
            end=later + timedelta(minutes=30),
        )  # fmt: skip
    before = timezone.now()
    page = client_as("fran").get(reverse("dashboard"))
    today = page.context["today"]
    shown = Appointment.objects.filter(pk__in=today["shown"])
    assert today["total"] == Appointment.objects.count()
    assert len(today["shown"]) <= ROWS
    assert all(a.end >= before or a.is_open for a in shown)
    assert f"of today's {today['total']}" in page.content.decode()


def test_a_busy_day_costs_the_queries_of_a_quiet_one(world, client_as):
    """The day's count comes with its rows: no second look at a busy day."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fran = client_as("fran")
    fran.get(reverse("dashboard"))  # the session and the staff member read once already
    _day(world, 3)
    with CaptureQueriesContext(connection) as quiet:
        page = fran.get(reverse("dashboard"))
    assert (len(page.context["today"]["shown"]), page.context["today"]["total"]) == (3, 3)
    _day(
        world, ROWS + 10, practitioner=world.alice
    )  # still open, so each one is listed until the rows run out
    with CaptureQueriesContext(connection) as busy:
        page = fran.get(reverse("dashboard"))
    today = page.context["today"]
    assert (len(today["shown"]), today["total"]) == (ROWS, ROWS + 13)
    assert len(busy.captured_queries) == len(quiet.captured_queries)


@pytest.mark.django_db(transaction=True)  # nothing is kept inside a transaction
def test_the_kept_day_is_the_day_drawn_anew_after_a_change_and_when_a_row_ends(
    world, client_as, monkeypatch
):
    """The day's rows are kept by the clinic's schedule version (scheduling/versions.py) until
    the next listed appointment ends: then it is due an outcome with nothing written."""
    import re

    from django.core.cache import cache

    from dermis.web.clinic import process_memo
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.patients import services as patients

    noon = _today_at(12 * 60)
    moment = [noon]
    monkeypatch.setattr(timezone, "now", lambda: moment[0])
    for start in (_today_at(11 * 60), noon):
        Appointment.objects.create(
            clinic=world.northgate, patient=world.nora, practitioner=world.pat, start=start,
            end=start + timedelta(minutes=30),
        )  # fmt: skip
    fran = client_as("fran")

    def rows() -> str:
        html = fran.get(reverse("dashboard")).content.decode()
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)

    def drawn_anew() -> str:
        process_memo.clear_all()
        cache.clear()
        return rows()

    first = rows()
    assert first.count("Needs an outcome") == 1  # the 11:00 one; the noon one is on now
    assert rows() == first  # kept
    moment[0] = noon + timedelta(minutes=31)  # the noon one has ended: nothing written
    ended = rows()
    assert ended.count("Needs an outcome") == 2
    assert ended == drawn_anew()
    patients.update_patient(Actor.of_staff(world.alice), world.nora, family_name="Quinn-Lowe")
    renamed = rows()
    assert "Quinn-Lowe" in renamed
    assert renamed == drawn_anew()
