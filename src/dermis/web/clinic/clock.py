"""The services' clock: the real time, or a moment the demo seeder (or a test) sets.

Every timestamp a service writes and every "today" the safety gate is asked about come from
here, so the demo can build a clinic's past through the same services, as it happened then.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from django.utils import timezone

_moment: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "dermis_clock", default=None
)


def now() -> datetime:
    return _moment.get() or timezone.now()


def today() -> date:
    return timezone.localdate(now())


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Within the block, services act as if it were `moment` (an aware datetime)."""
    if timezone.is_naive(moment):
        raise ValueError("the clock needs an aware datetime")
    token = _moment.set(moment)
    try:
        yield
    finally:
        _moment.reset(token)
