"""Jinja2 for the long lists of the busiest pages (settings.TEMPLATES, the `jinja2` engine).

Django's template engine costs 50–130 µs a row of a four- to seven-column table here (every
variable and tag is a node resolved through the context at render time): the audit log's 50 rows
took 5.2 ms, the dashboard's 30 took 3.8 ms. Jinja2 compiles a template to Python once, and a row
then costs mostly the Django helpers it calls (date formatting, choice labels): 3.0 and 1.9 ms.
Pages stay Django templates; a list's rows, or a page's whole content where Django's engine was
most of the page's time (the patient record: about half of it), are a Jinja2 template included
with `{% jinja "name" %}` (`templatetags/dermis_jinja.py`), which sees the page's whole context.

The environment writes what Django's engine writes, character for character, so a list reads the
same whichever engine drew it (tests/web/test_jinja_rows.py renders both):
- output is escaped as Django escapes (`'` as `&#x27;`, `"` as `&quot;`); marked-safe strings pass;
- dates and times must go through `date` or `time`, which convert to the current time zone and
  format as Django's filters do; a date printed bare is refused rather than written differently;
- a name the context lacks is an error, not an empty string, so a misspelt field fails its test;
- `url(name, *numbers)` is `{% url %}` (with `url_shapes`), `csrf_field(csrf_token)` is
  `{% csrf_token %}`, `staff_name(user)` is `user.staff.display_name|default:user.get_username`,
  `localize` writes a number as `{{ number }}` does, and `urlencode`, `pluralize` and `capfirst`
  are Django's own filters.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import html
from collections.abc import Callable

import jinja2
from django.conf import settings
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf
from django.utils import dateformat, dates, formats, timezone
from django.utils.html import format_html
from django.utils.timezone import template_localtime
from markupsafe import Markup

from dermis.web.url_shapes import fast_reverse


def _finalize(value):
    """Each `{{ … }}`'s value escaped as Django escapes it (html.escape, quotes included)."""
    if hasattr(value, "__html__"):
        return value
    if isinstance(value, datetime.date | datetime.time | float | decimal.Decimal):
        # Django writes these localised; here they must be formatted with a filter.
        raise TypeError(f"format {value!r} with a filter (date, time) in a Jinja2 template")
    return Markup(html.escape(str(value)))


# Django's date format letters a list's dates use, written as `dateformat` writes them (names
# through Django's translated tables), and whether each needs a time of day.
_LETTERS: dict[str, tuple[Callable[[datetime.date], str], bool]] = {
    "d": (lambda v: f"{v.day:02d}", False),
    "j": (lambda v: str(v.day), False),
    "D": (lambda v: str(dates.WEEKDAYS_ABBR[v.weekday()]), False),
    "l": (lambda v: str(dates.WEEKDAYS[v.weekday()]), False),
    "m": (lambda v: f"{v.month:02d}", False),
    "n": (lambda v: str(v.month), False),
    "M": (lambda v: str(dates.MONTHS_3[v.month]).title(), False),
    "F": (lambda v: str(dates.MONTHS[v.month]), False),
    "Y": (lambda v: f"{v.year:04d}", False),
    "y": (lambda v: f"{v.year % 100:02d}", False),
    "H": (lambda v: f"{v.hour:02d}", True),
    "G": (lambda v: str(v.hour), True),
    "i": (lambda v: f"{v.minute:02d}", True),
    "s": (lambda v: f"{v.second:02d}", True),
}


@functools.lru_cache(maxsize=64)
def _plan(fmt: str) -> tuple[tuple, bool] | None:
    """A format of `_LETTERS` and punctuation as its pieces (a letter's writer or the text
    itself) and whether it needs a time of day; None for any other (Django writes it)."""
    pieces, timed = [], False
    for ch in fmt:
        if ch in _LETTERS:
            write, needs_time = _LETTERS[ch]
            pieces.append(write)
            timed |= needs_time
        elif ch.isalpha() or ch == "\\":
            return None
        else:
            pieces.append(ch)
    return tuple(pieces), timed


def format_date(value, fmt) -> str:
    """Django's `date` filter given a value already in the time zone it is to be written in (as
    Django's engine hands it to the filter): the letters of `_LETTERS` written here, any other
    format left to Django."""
    if value in (None, ""):
        return ""
    # A template's literal format is a SafeString. A setting's name (DATE_FORMAT) is Django's.
    if isinstance(fmt, str) and not fmt.isupper():
        if fmt == "H:i" and isinstance(value, datetime.datetime | datetime.time):
            return f"{value.hour:02d}:{value.minute:02d}"
        if fmt == "c" and isinstance(value, datetime.datetime):
            return value.isoformat()  # Django's "c"
        plan = _plan(fmt)
        if plan is not None and isinstance(value, datetime.date):
            pieces, timed = plan
            if isinstance(value, datetime.datetime) or not timed:
                # A list's fifty dates: Django's formatter looks the format up as a setting's
                # name, splits it and looks up each letter anew for every one of them.
                return "".join(p if type(p) is str else p(value) for p in pieces)
        # What the filter does with a format written out, without looking it up as a name.
        try:
            return dateformat.format(value, fmt)
        except AttributeError:
            pass
    return defaultfilters.date(value, fmt)


def format_time(value, fmt) -> str:
    """Django's `time` filter given a value already in its time zone (`format_date`)."""
    if value in (None, ""):
        return ""
    if fmt == "H:i" and isinstance(value, datetime.datetime | datetime.time):
        return f"{value.hour:02d}:{value.minute:02d}"
    return defaultfilters.time(value, fmt)


# What a list's rows ask of the request for every date and link, looked up once per render by
# `{% jinja %}` (templatetags/dermis_jinja.py) and handed over in its context under these names:
# the current time zone, and the URLconf and script prefix a link is made in. Each lookup is a
# read of a request-local (5–10 µs, most of a row's date or link); a template rendered without
# them looks them up each time.
ZONE, WHERE = "_dermis_zone", "_dermis_where"


def per_render() -> dict:
    """The values `ZONE` and `WHERE` name, as they are now."""
    return {ZONE: timezone.get_current_timezone(), WHERE: (get_urlconf(), get_script_prefix())}


def _local(value, zone=None):
    """What Django's engine does before a date filter (`template_localtime`): an aware date and
    time in the current zone (`zone`, when the render looked it up)."""
    if not isinstance(value, datetime.datetime):
        return value
    if zone is None:
        return template_localtime(value)
    if value.utcoffset() is None or not settings.USE_TZ:
        return value
    return value.astimezone(zone) if getattr(value, "convert_to_local_time", True) else value


def _date(value, fmt: str) -> str:
    """Django's `date` filter: the value in the current time zone, in Django's format."""
    return format_date(_local(value), fmt)


def _time(value, fmt: str) -> str:
    """Django's `time` filter: the value in the current time zone, in Django's format."""
    return format_time(_local(value), fmt)


@jinja2.pass_context
def _date_here(context, value, fmt: str) -> str:
    return format_date(_local(value, context.get(ZONE)), fmt)


@jinja2.pass_context
def _time_here(context, value, fmt: str) -> str:
    return format_time(_local(value, context.get(ZONE)), fmt)


@jinja2.pass_context
def _url(context, view_name: str, *args) -> str:
    return fast_reverse(view_name, args, context.get(WHERE))


def _csrf_field(token) -> Markup:
    """`{% csrf_token %}`, given the context's `csrf_token`."""
    if not token or token == "NOTPROVIDED":
        return Markup("")
    return Markup(format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token))


def _staff_name(user) -> str:
    """`{{ user.staff.display_name|default:user.get_username }}`: a user's name on the staff, or
    their user name (a user without a staff row has none: Django's engine writes it silently)."""
    staff = getattr(user, "staff", None)  # RelatedObjectDoesNotExist is an AttributeError
    return (staff.display_name if staff is not None else "") or user.get_username()


def environment(**options) -> jinja2.Environment:
    options["undefined"] = jinja2.StrictUndefined
    options["autoescape"] = True
    env = jinja2.Environment(finalize=_finalize, **options)
    env.globals.update(url=_url, static=static, csrf_field=_csrf_field, staff_name=_staff_name)
    env.filters.update(
        date=_date_here,
        time=_time_here,
        urlencode=defaultfilters.urlencode,
        pluralize=defaultfilters.pluralize,
        capfirst=defaultfilters.capfirst,
        localize=formats.localize,  # a number as Django's engine writes `{{ number }}`
    )
    return env
