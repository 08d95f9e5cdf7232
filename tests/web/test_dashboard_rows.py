"""The dashboard lists today's appointments; on a busy day, those still to come or still open,
at most `ROWS`, with the day's total and the diary a link away."""

from __future__ import annotations

from datetime import datetime, time, timedelta

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
    assert len(page.context["appointments"]) == 3
    assert "The diary</a> shows them all" not in page.content.decode()


def test_a_busy_day_lists_what_needs_attention_and_counts_the_rest(world, client_as):
    _day(world, ROWS + 10, status="completed")  # done, early in the day
    later = _today_at(23 * 60)
    if later > timezone.now():
        Appointment.objects.create(
            clinic=world.northgate, patient=world.nora, practitioner=world.pat, start=later,
            end=later + timedelta(minutes=30),
        )  # fmt: skip
    page = client_as("fran").get(reverse("dashboard"))
    shown = page.context["appointments"]
    assert page.context["total"] == Appointment.objects.count()
    assert len(shown) <= ROWS
    assert all(a.end >= page.context["now"] or a.is_open for a in shown)
    assert f"of today's {page.context['total']}" in page.content.decode()


def test_a_busy_day_costs_the_queries_of_a_quiet_one(world, client_as):
    """The day's count comes with its rows: no second look at a busy day."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fran = client_as("fran")
    fran.get(reverse("dashboard"))  # the session and the staff member read once already
    _day(world, 3)
    with CaptureQueriesContext(connection) as quiet:
        page = fran.get(reverse("dashboard"))
    assert (len(page.context["appointments"]), page.context["total"]) == (3, 3)
    _day(
        world, ROWS + 10, practitioner=world.alice
    )  # still open, so each one is listed until the rows run out
    with CaptureQueriesContext(connection) as busy:
        page = fran.get(reverse("dashboard"))
    assert (len(page.context["appointments"]), page.context["total"]) == (ROWS, ROWS + 13)
    assert len(busy.captured_queries) == len(quiet.captured_queries)
