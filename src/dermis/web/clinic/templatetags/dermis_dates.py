"""Django's `date` and `time` filters, written faster (a builtin, settings.TEMPLATES, so every
template's `|date` and `|time` are these).

Django's `date` filter looks its format up as a setting's name in the active language's format
modules, then splits it and looks each letter up again, for every date: 15–25 µs each, about
0.8 ms of the patient record. These write the letters a page's dates use directly
(`dermis.web.jinja.format_date`, which the Jinja2 rows use too) and leave every other format,
and a format setting's name, to Django; the text is the same, character for character
(tests/web/test_jinja_dates.py renders both). As Django's, they are handed the value already in
the current time zone (`expects_localtime`, which `{% localtime off %}` turns off)."""

from __future__ import annotations

from django import template
from django.template import defaultfilters

from dermis.web.jinja import format_date, format_time

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    if arg is None:
        return defaultfilters.date(value)
    return format_date(value, arg)


@register.filter(expects_localtime=True, is_safe=False)
def time(value, arg=None):
    if arg is None:
        return defaultfilters.time(value)
    return format_time(value, arg)
