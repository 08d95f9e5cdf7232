"""`overlapping(start, end)`: every appointment that overlaps a window, found by reading only
the window's own stretch of the (…, start) indexes."""

from __future__ import annotations

from datetime import timedelta

from dermis.web.clinic.models import Appointment, overlapping
from dermis.web.clinic.scheduling.rules import MAX_MINUTES
from dermis.web.clinic.scheduling.selectors import clash
from tests import factories


def test_the_longest_appointment_that_began_before_the_window_is_found(world):
    factories.working_hours(world.pat)
    day = factories.next_weekday_at(7, days_ahead=3)
    longest = factories.appointment(world.pat, world.nora, day, minutes=MAX_MINUTES)
    window = (longest.end - timedelta(minutes=30), longest.end + timedelta(hours=1))

    found = Appointment.objects.filter(overlapping(*window))

    assert list(found) == [longest]
    assert clash(world.pat, *window) == longest
    assert not Appointment.objects.filter(
        overlapping(longest.end, longest.end + timedelta(hours=1))
    )
    assert not Appointment.objects.filter(overlapping(day - timedelta(hours=2), day))


def test_the_bound_reads_no_earlier_than_a_day_before_the_window(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    day = factories.next_weekday_at(9, days_ahead=3)
    with CaptureQueriesContext(connection) as seen:
        list(Appointment.objects.filter(overlapping(day, day + timedelta(hours=1))))
    (sql,) = [q["sql"] for q in seen.captured_queries]
    assert sql.count('"clinic_appointment"."start" >') == 1  # the lower bound on start
