"""How far a course has got: sessions done, left, the last one, and the earliest day for the next.

One set of rules for booking, recall and the outcome forecast:

- a session counts when it is finalised (signed): a draft may still be discarded or changed;
- it counts for a course when it used the course's modality on or after the course's earliest
  start (a session before then belongs to an earlier course); sessions on one day are one visit;
- the minimum time between two sessions of a modality is its protocols' shortest interval
  (knowledge base `protocols`; the sources are returned with it). It applies to the last finalised
  session of the modality whichever course it belonged to: healing does not know the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dermis.core.knowledge.schema import KnowledgeBase
from dermis.core.planning import Course, course_protocols, interval_range, protocol_for


@dataclass(frozen=True)
class SessionDone:
    """A session of the patient's: its modality, day and whether it is finalised."""

    modality: str
    on: date
    final: bool = True
    areas: tuple[str, ...] = ()  # the treated areas; empty: not known (counts for every area)


def _counted(course: Course, sessions: Sequence[SessionDone], area: str | None) -> set[date]:
    return {
        s.on
        for s in sessions
        if s.final
        and s.modality == course.modality
        and s.on >= course.earliest_start
        and (area is None or not s.areas or area in s.areas)
    }


def sessions_done(
    course: Course, sessions: Sequence[SessionDone], *, area: str | None = None
) -> int:
    """Finalised visits of the course's modality on or after its earliest start (only those that
    treated `area`, when given). Sources: the series length is the protocols' (`Course.sessions`);
    counting signed visits only is the record-keeping convention (`dermis_default`)."""
    return len(_counted(course, sessions, area))


def remaining_sessions(course: Course, sessions: Sequence[SessionDone]) -> int:
    """Sessions of the course still to do: its planned number less those done, never negative."""
    return max(0, course.sessions - sessions_done(course, sessions))


def last_session_on(course: Course, sessions: Sequence[SessionDone]) -> date | None:
    """The day of the last finalised session of the course's modality (from any course: the
    interval protects healing skin, whatever plan the session belonged to)."""
    return last_final(course.modality, sessions)


def last_final(
    modality: str, sessions: Sequence[SessionDone], before: date | None = None
) -> date | None:
    """The last finalised session of `modality` (on or before `before`, when given)."""
    days = [
        s.on
        for s in sessions
        if s.final and s.modality == modality and (before is None or s.on <= before)
    ]
    return max(days, default=None)


def minimum_interval(
    modality: str, course: Course | None, kb: KnowledgeBase
) -> tuple[int, tuple[str, ...]]:
    """(days, sources): the shortest time between two sessions of `modality`. From the course's
    concerns' protocols when there is a course, else from the modality's default protocol."""
    if course is not None:
        protocols = course_protocols(course, kb)
    else:
        protocols = [protocol_for(kb, modality, "default")]
    low, _, _ = interval_range(protocols)
    return low, tuple(dict.fromkeys(c for p in protocols for c in p.sources))


def next_session_earliest(
    course: Course, sessions: Sequence[SessionDone], kb: KnowledgeBase, today: date
) -> date:
    """The first day the course's next session may be: not before today, not before the course's
    earliest start (the plan's deferrals, each with its source), and at least the protocols'
    minimum interval after the last finalised session of the modality."""
    earliest = max(today, course.earliest_start)
    last = last_session_on(course, sessions)
    if last is None:
        return earliest
    days, _ = minimum_interval(course.modality, course, kb)
    return max(earliest, last + timedelta(days=days))
