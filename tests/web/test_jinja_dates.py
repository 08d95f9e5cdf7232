"""The Jinja2 rows' `date` filter (dermis/web/jinja.py) writes what Django's writes, character for
character, whether it formats a date itself (the letters a list uses) or leaves it to Django."""

from __future__ import annotations

import datetime as dt

from django.template import defaultfilters
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from dermis.web import jinja

LETTERS = "djDlmnMFYyHGis"
formats = st.text(alphabet=LETTERS + " ,:-/.", min_size=1, max_size=14)
moments = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC)
)


@given(moment=moments, fmt=formats)
def test_a_date_and_time_is_written_as_django_writes_it(moment, fmt):
    assert jinja._date(moment, fmt) == defaultfilters.date(timezone.localtime(moment), fmt)


@given(day=st.dates(min_value=dt.date(1, 1, 1)), fmt=st.text(alphabet="djDlmnMFYy ,-", min_size=1))
def test_a_date_is_written_as_django_writes_it(day, fmt):
    assert jinja._date(day, fmt) == defaultfilters.date(day, fmt)


def test_formats_the_lists_use_are_written_here_and_others_left_to_django():
    for fmt in ("D j M Y", "D j M Y, H:i", "j M Y H:i:s", "j M Y"):
        assert jinja._plan(fmt) is not None, fmt
    for fmt in ("N j, Y", "P", r"\\d j", "jS F"):
        assert jinja._plan(fmt) is None, fmt
    moment = dt.datetime(2026, 12, 3, 9, 5, 7, tzinfo=dt.UTC)
    assert jinja._date(moment, "jS F Y") == defaultfilters.date(
        timezone.localtime(moment), "jS F Y"
    )
    # A time of day asked of a date alone is Django's to refuse or write.
    assert jinja._date(dt.date(2026, 12, 3), "j M") == "3 Dec"
