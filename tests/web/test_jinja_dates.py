"""The Jinja2 rows' `date` filter (dermis/web/jinja.py), and every Django template's `|date` and
`|time` (templatetags/dermis_dates.py), write what Django's write, character for character,
whether they format a date themselves (the letters a list uses) or leave it to Django."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Engine, defaultfilters, engines
from django.utils import dateformat, timezone
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


# --- The same filters as every Django template's `|date` and `|time` (templatetags/dermis_dates)

DJANGOS = Engine(libraries={"tz": "django.templatetags.tz"})  # Django's own `date` and `time`
zones = st.sampled_from(["Europe/London", "Pacific/Auckland", "America/St_Johns", "UTC"])
values = st.one_of(
    st.none(),
    st.just(""),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.times(),
    st.datetimes(min_value=dt.datetime(2, 1, 2), max_value=dt.datetime(9998, 12, 30)),
    st.datetimes(
        min_value=dt.datetime(2, 1, 2),
        max_value=dt.datetime(9998, 12, 30),
        timezones=st.just(dt.UTC),
    ),
)
any_format = st.one_of(
    formats,
    st.sampled_from(["c", "H:i", "DATE_FORMAT", "SHORT_DATETIME_FORMAT", "N j, Y", "P", "jS"]),
)


def _both(source: str, **context) -> tuple[str, str]:
    """What each engine writes, or the kind of error it raises (a date asked for its hour)."""
    out = []
    for render in (
        lambda: engines["django"].from_string(source).render(context),
        lambda: DJANGOS.from_string(source).render(Context(context)),
    ):
        try:
            out.append(render())
        except Exception as exc:  # the kind of error is what is compared
            out.append(type(exc).__name__)
    return out[0], out[1]


@given(value=values, fmt=any_format, zone=zones)
def test_every_templates_date_and_time_filters_write_what_djangos_write(value, fmt, zone):
    with timezone.override(zone):
        for source in (
            "{{ v|date:f }}",
            "{{ v|time:f }}",
            "{{ v|date }}",
            "{{ v|time }}",
            "{% load tz %}{% localtime off %}{{ v|date:f }}{{ v|time:f }}{% endlocaltime %}",
        ):
            ours, djangos = _both(source, v=value, f=fmt)
            assert ours == djangos, (source, value, fmt)


def test_the_project_templates_write_a_pages_formats_without_djangos_formatter(monkeypatch):
    parsed = engines["django"].engine.from_string("{{ v|date:'j M' }}")
    used = parsed.nodelist[0].filter_expression.filters[0][0]
    assert used.__module__ == "dermis.web.clinic.templatetags.dermis_dates"
    asked = []
    monkeypatch.setattr(dateformat, "format", lambda *a: asked.append(a) or "")
    monkeypatch.setattr(defaultfilters, "date", lambda *a: asked.append(a) or "")
    moment = dt.datetime(2026, 12, 3, 9, 5, 7, tzinfo=dt.UTC)
    # A literal format (a SafeString, as the template engine passes it) and one from a variable.
    source = '{{ v|date:"D j M Y, H:i" }} {{ v|date:f }} {{ v|time:"H:i" }} {{ v|date:"c" }}'
    written = engines["django"].from_string(source).render({"v": moment, "f": "j F Y"})
    assert written == "Thu 3 Dec 2026, 09:05 3 December 2026 09:05 2026-12-03T09:05:07+00:00"
    assert asked == []
