"""FHIR search parameter values: token, reference, string and date, turned into query filters.

A value the server cannot understand is a `BadParameter` (answered 400 with an
OperationOutcome), never a silent match-all.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class BadParameter(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def token(name: str, value: str, system: str | None = None) -> str:
    """The code of a token `[system|]code`; a system other than `system` matches nothing."""
    if "|" in value:
        given, code = value.split("|", 1)
        if given and system is not None and given != system:
            return "\0"  # no record carries a code of another system
        return code
    return value


def reference(name: str, value: str, resource_type: str) -> int:
    """The id of `Patient/12`, `12` or a full URL ending in `Patient/12`."""
    tail = value.rstrip("/").split("/")
    if len(tail) >= 2 and tail[-2] != resource_type:
        raise BadParameter(name, f"must refer to a {resource_type}")
    try:
        return int(tail[-1])
    except ValueError:
        raise BadParameter(name, f"'{value}' is not a {resource_type} id") from None


def integer(name: str, value: str, *, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadParameter(name, "must be a whole number") from None
    if not low <= number <= high:
        raise BadParameter(name, f"must be between {low} and {high}")
    return number


def _split(name: str, value: str) -> tuple[str, str]:
    if value[:2] in PREFIXES and not value[:2].isdigit():
        return value[:2], value[2:]
    if value[:2].isalpha():
        supported = ", ".join(PREFIXES)
        raise BadParameter(name, f"prefix '{value[:2]}' is not supported (use {supported})")
    return "eq", value


def _period(name: str, text: str) -> tuple[date | datetime, date | datetime]:
    """[start, end) of a FHIR date or dateTime value: a year, a month, a day or an instant."""
    found = _DATE.match(text)
    if found:
        year, month, day = found.groups()
        try:
            if day:
                start = date(int(year), int(month), int(day))
                return start, start + timedelta(days=1)
            if month:
                start = date(int(year), int(month), 1)
                end = date(int(year) + (month == "12"), int(month) % 12 + 1, 1)
                return start, end
            return date(int(year), 1, 1), date(int(year) + 1, 1, 1)
        except ValueError:
            raise BadParameter(name, f"'{text}' is not a date") from None
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(name, f"'{text}' is not a date or dateTime") from None
    if instant.tzinfo is None:
        raise BadParameter(name, "a dateTime needs a time zone (e.g. Z or +01:00)")
    return instant, instant + timedelta(seconds=1)


def _instant(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def date_filter(name: str, values: list[str], field: str, *, is_datetime: bool) -> Q:
    """A Q for every `date` value given (they all apply: ge2026-01-01&date=lt2026-02-01)."""
    q = Q()
    for value in values:
        prefix, text = _split(name, value)
        start, end = _period(name, text)
        if is_datetime:
            start, end = _instant(start), _instant(end)
        else:
            start, end = _day(start), _day(end)
            end = max(end, start + timedelta(days=1))
        q &= {
            "eq": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
            "ne": ~Q(**{f"{field}__gte": start, f"{field}__lt": end}),
            "lt": Q(**{f"{field}__lt": start}),
            "le": Q(**{f"{field}__lt": end}),
            "gt": Q(**{f"{field}__gte": end}),
            "ge": Q(**{f"{field}__gte": start}),
        }[prefix]
    return q


def date_matches(name: str, values: list[str], day: date) -> bool:
    """The same test as `date_filter`, on one day held in Python."""
    for value in values:
        prefix, text = _split(name, value)
        start, end = _period(name, text)
        start, end = _day(start), _day(end)
        end = max(end, start + timedelta(days=1))
        inside = start <= day < end
        ok = {
            "eq": inside,
            "ne": not inside,
            "lt": day < start,
            "le": day < end,
            "gt": day >= end,
            "ge": day >= start,
        }[prefix]
        if not ok:
            return False
    return True
