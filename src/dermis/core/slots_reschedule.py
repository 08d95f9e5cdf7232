"""Move one session of a booked series, and shift the later ones as little as the intervals need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from dermis.core.errors import InputError
from dermis.core.slots_calendar import Availability, ResourceId, ResourceKind, Slot, require_aware
from dermis.core.slots_request import Rescheduled, SeriesRequest
from dermis.core.slots_search import DateSearch, DayFinder, window


def reschedule(
    availability: Availability,
    request: SeriesRequest,
    booked: Sequence[Slot],
    index: int,
    new_start: datetime,
) -> Rescheduled:
    """Move session `index` (0-based) of `booked` to `new_start`, keeping its length.

    `availability` must not contain the series' own bookings (the web app leaves them out), so
    each session's current slot counts as free. Earlier sessions never move: the new time must be
    within the interval range after the previous session. Each later session keeps its slot while
    its interval from the one before stays in range; otherwise it moves to the date nearest its
    own (same time of day where free), and the next ones are checked again from there.
    """
    n = len(booked)
    if not 0 <= index < n:
        raise InputError("index", f"there is no session {index + 1} in a series of {n}")
    if any(s.practitioner != request.practitioner for s in booked):
        raise InputError(
            "booked", f"every session must be with practitioner {request.practitioner}"
        )
    start = require_aware(new_start, "new_start")
    zone = availability.zone
    old = booked[index]
    end = start + round(old.end.timestamp() - old.start.timestamp())
    finder = DayFinder(availability, request)
    day = availability.local(start).date()

    problems = _new_slot_problems(finder, old, start, end)
    if index:
        gap = (day - booked[index - 1].start.astimezone(zone).date()).days
        if not request.min_interval_days <= gap <= request.max_interval_days:
            problems.append(
                f"session {index + 1} would be {gap} days after session {index}; allowed "
                f"{request.min_interval_days}-{request.max_interval_days}"
            )
    if problems:
        return Rescheduled(False, (), (), (), tuple(problems))
    _, room, device = finder.fit(
        start, end, _first(old.room, request.rooms), _first(old.device, request.devices)
    )
    moved_slot = Slot(
        availability.local(start), availability.local(end), old.practitioner, room, device
    )

    own = [s.start.astimezone(zone).date() for s in booked]
    keep = {k: availability.is_free(booked[k]) for k in range(index + 1, n)}

    def candidates(k: int, prev: date) -> list[date]:
        days = window(
            prev, request.min_interval_days, request.max_interval_days, request.latest_date
        )
        return sorted(days, key=lambda d: (d != own[k], abs((d - own[k]).days), d))

    def usable(k: int, d: date) -> bool:
        return (d == own[k] and keep[k]) or finder.has(d, strict=False)

    # sessions before `index + 1` are fixed: start the search at the next one
    search = DateSearch(n, candidates, usable)
    dates = search.complete(index + 1, day)
    if dates is None:
        stuck = search.placed + 1
        return Rescheduled(
            False,
            (),
            (),
            (),
            (
                f"no free slot for session {stuck} {request.min_interval_days}-"
                f"{request.max_interval_days} days after session {stuck - 1}, however the "
                "sessions in between are shifted",
            ),
        )
    slots = [*booked[:index], moved_slot]
    moved, changes = [], []
    for k, d in enumerate(dates, start=index + 1):
        before = booked[k]
        if d == own[k] and keep[k]:
            slots.append(before)
            continue
        anchor = finder.minute(int(before.start.timestamp()))
        (t, room, device), _ = finder.choose(d, False, anchor)
        after = Slot(
            availability.local(t),
            availability.local(t + finder.duration),
            before.practitioner,
            room,
            device,
        )
        slots.append(after)
        moved.append(k)
        shift = (d - own[k]).days
        why = (
            f"{abs(shift)} day{'s' if abs(shift) != 1 else ''} "
            f"{'later' if shift > 0 else 'earlier'}"
            if shift
            else "same day, another time (the old slot is no longer free)"
        )
        changes.append(
            f"session {k + 1}: {before.start.astimezone(zone):%a %d %b %Y %H:%M} -> "
            f"{after.start:%a %d %b %Y %H:%M} ({why}), to stay {request.min_interval_days}-"
            f"{request.max_interval_days} days after session {k}"
        )
    return Rescheduled(True, tuple(slots), tuple(moved), tuple(changes))


def _first(preferred: ResourceId | None, others: Sequence[ResourceId]) -> list[ResourceId]:
    """`others`, with the resource the session already had tried first."""
    rest = [o for o in others if o != preferred]
    return [preferred, *rest] if preferred is not None else rest


def _new_slot_problems(finder: DayFinder, old: Slot, start: int, end: int) -> list[str]:
    av, req = finder.av, finder.req
    problems = av.problems(Slot(av.local(start), av.local(end), old.practitioner))
    for kind, ids in (
        (ResourceKind.ROOM, _first(old.room, req.rooms)),
        (ResourceKind.DEVICE, _first(old.device, req.devices)),
    ):
        if ids and finder.one_of(kind, ids, start, end)[0] is None:
            problems.append(f"no {kind.value} is free then (tried {', '.join(map(str, ids))})")
    return problems
