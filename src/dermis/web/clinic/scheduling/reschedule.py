"""Moving one session of a series, and the later ones with it when an interval would break: the
preview the user sees, then the same moves applied in one transaction after the safety gate.

The preview is re-computed inside the transaction that writes it; the database still refuses any
overlap that slips between the two (`SlotTaken`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from dermis.core import gate, slots
from dermis.core.errors import InputError
from dermis.core.planning import Course, Plan, course_interval_range
from dermis.web.clinic import recall_sync, safety
from dermis.web.clinic.actors import ANY_STAFF, PATIENT, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.errors import ServiceError, conflict
from dermis.web.clinic.models import (
    ATTENDED_STATUSES,
    OPEN_STATUSES,
    Appointment,
    Equipment,
    Room,
)
from dermis.web.clinic.scheduling import availability, lifecycle
from dermis.web.clinic.scheduling.booking import KEEP, Move, SlotTaken, move_series
from dermis.web.clinic.scheduling.series import SeriesChanged

# --- Moving one session ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What moving one session does to its series: the core's answer and the rows to show."""

    appointment: Appointment
    series: tuple[Appointment, ...]
    index: int
    request: slots.SeriesRequest
    result: slots.Rescheduled
    rooms: dict
    equipment: dict
    broken: tuple[str, ...]  # later intervals the move alone would break

    def moves(self) -> list[Move]:
        if not self.result.ok:
            return []
        out = []
        for k in (self.index, *self.result.moved):
            slot = self.result.slots[k]
            room = self.rooms.get(getattr(slot.room, "pk", None)) if self.request.rooms else KEEP
            device = (
                self.equipment.get(getattr(slot.device, "pk", None))
                if self.request.devices
                else KEEP
            )
            out.append(Move(self.series[k], slot.start, slot.end, room, device))
        return out

    def fingerprint(self) -> str:
        """Identifies these exact moves: what the confirmation must still match."""
        return ";".join(
            f"{m.appointment.pk}@{m.start.isoformat()}/{getattr(m.room, 'pk', '')}"
            f"/{getattr(m.equipment, 'pk', '')}"
            for m in self.moves()
        )

    def rows(self) -> list[dict]:
        moved = {m.appointment.pk: m for m in self.moves()}
        changes = dict(zip(self.result.moved, self.result.changes, strict=True))
        out = []
        for k, a in enumerate(self.series):
            m = moved.get(a.pk)
            why = "the session you are moving" if k == self.index else changes.get(k, "")
            out.append(
                {"number": k + 1, "appointment": a, "new": m.start if m else None, "why": why}
            )
        return out


def _course_for(appointment: Appointment) -> Course | None:
    plan = appointment.plan
    if plan is None:
        return None
    courses = [c for c in Plan.from_dict(plan.content).courses if c.treatments]
    kb = knowledge()
    device = kb.devices.get(appointment.equipment.device) if appointment.equipment else None
    modality = appointment.modality or (device.modality if device else None)
    return next((c for c in courses if modality is None or c.modality == modality), None)


def _interval_range(appointment: Appointment) -> tuple[int, int]:
    course = _course_for(appointment)
    if course is None:
        return 1, 366  # no plan to say: the move keeps the order, nothing more
    return course_interval_range(course, knowledge())


@dataclass(frozen=True)
class _Moving:
    """A booked series seen from one of its sessions, as the slot finder's request."""

    series: list[Appointment]
    index: int
    request: slots.SeriesRequest
    rooms: dict
    equipment: dict
    booked: list[slots.Slot]

    def calendar(self, first: datetime, last: datetime) -> slots.Availability:
        """Everything busy between `first` and `last` except this series' own bookings."""
        a = self.series[self.index]
        return availability.build(
            [a.practitioner],
            first,
            last,
            rooms=self.rooms.values(),
            equipment=self.equipment.values(),
            location=a.location,
            exclude=[s.pk for s in self.series],
        )


def _moving(appointment: Appointment, now: datetime) -> _Moving:
    series = [appointment]
    if appointment.series_key:
        rows = Appointment.objects.filter(series_key=appointment.series_key).order_by("start")
        series = [
            a
            for a in rows.select_related("room", "equipment", "location", "practitioner")
            if a.status in OPEN_STATUSES
            or (a.status in ATTENDED_STATUSES and a.start < appointment.start)
        ]
    index = next(i for i, a in enumerate(series) if a.pk == appointment.pk)
    low, high = _interval_range(appointment)
    rooms = {r.pk: r for r in _rooms(series)}
    equipment = {e.pk: e for e in _devices(appointment)}
    named = {
        **{("room", pk): availability.resource(r) for pk, r in rooms.items()},
        **{("device", pk): availability.resource(e) for pk, e in equipment.items()},
    }
    who = availability.resource(appointment.practitioner)
    request = slots.SeriesRequest(
        practitioner=who,
        sessions=len(series),
        duration_minutes=max(round((a.end - a.start).total_seconds() / 60) for a in series),
        min_interval_days=low,
        max_interval_days=high,
        earliest_start=timezone.localtime(series[0].start).date(),
        rooms=tuple(named["room", pk] for pk in rooms),
        devices=tuple(named["device", pk] for pk in equipment),
        not_before=now,
    )
    zone = availability.clinic_zone()
    booked = [
        slots.Slot(
            a.start.astimezone(zone),
            a.end.astimezone(zone),
            who,
            named.get(("room", a.room_id)),
            named.get(("device", a.equipment_id)),
        )
        for a in series
    ]
    return _Moving(series, index, request, rooms, equipment, booked)


def preview(appointment: Appointment, new_start: datetime, now: datetime) -> Preview:
    """Move `appointment` to `new_start`: which later sessions must shift, and where to."""
    if new_start <= now:
        raise InputError("time", "must be in the future")
    m = _moving(appointment, now)
    req, n = m.request, len(m.series)
    first = min(m.series[0].start, new_start, now) - timedelta(days=1)
    reach = min((n - m.index) * req.max_interval_days, 400) + 2
    calendar = m.calendar(first, max(m.series[-1].start, new_start) + timedelta(days=reach))
    zone = availability.clinic_zone()
    result = slots.reschedule(calendar, req, m.booked, m.index, new_start.astimezone(zone))
    broken = _broken(m.series, m.index, new_start, req.min_interval_days, req.max_interval_days)
    return Preview(appointment, tuple(m.series), m.index, req, result, m.rooms, m.equipment, broken)


def suggestions(appointment: Appointment, now: datetime, count: int = 6) -> list[datetime]:
    """Free starts for this session that keep its interval after the previous one (up to `count`
    days, other weekdays first), from the slot finder."""
    m = _moving(appointment, now)
    req = m.request
    today = timezone.localtime(now).date()
    earliest, latest = today, today + timedelta(days=60)
    if m.index:
        prev = timezone.localtime(m.series[m.index - 1].start).date()
        earliest = max(today, prev + timedelta(days=req.min_interval_days))
        latest = prev + timedelta(days=req.max_interval_days)
    if latest < earliest:
        return []
    one = dataclasses.replace(
        req,
        sessions=1,
        earliest_start=earliest,
        latest_date=latest,
        target_interval_days=None,
        min_interval_days=1,
        max_interval_days=1,
    )
    start, end = availability.window_for(earliest, latest)
    result = slots.find_series(m.calendar(start, end), one, alternatives=count - 1)
    if result.proposal is None:
        return []
    return sorted(p.slots[0].start for p in (result.proposal, *result.alternatives))


@dataclass(frozen=True)
class FreeTimes:
    """Free starts for one session, one a day, and the day to look from for later ones."""

    starts: tuple[datetime, ...]
    later_from: date | None  # None: no later day keeps the series' intervals


def free_times(
    appointment: Appointment,
    now: datetime,
    *,
    first: date,
    not_before: datetime,
    count: int = 8,
    days: int = 84,
    horizon: date,
    day_allowed: Callable[[date], bool] = lambda day: True,
) -> FreeTimes:
    """The first free start, from the slot finder, on each day from `first` until `count` are
    found, over at most `days` days and not after `horizon`, at the session's practitioner,
    location, rooms and devices. Only days that keep the interval after the previous session and
    before the next one (so no other session has to move), and that `day_allowed` (the safety
    gate's answer)."""
    m = _moving(appointment, now)
    req = m.request
    low, high = req.min_interval_days, req.max_interval_days
    earliest, latest = max(first, timezone.localtime(not_before).date()), horizon
    if m.index:
        prev = timezone.localtime(m.series[m.index - 1].start).date()
        earliest, latest = (
            max(earliest, prev + timedelta(days=low)),
            min(latest, prev + timedelta(days=high)),
        )
    if m.index + 1 < len(m.series):
        nxt = timezone.localtime(m.series[m.index + 1].start).date()
        earliest, latest = (
            max(earliest, nxt - timedelta(days=high)),
            min(latest, nxt - timedelta(days=low)),
        )
    if latest < earliest:
        return FreeTimes((), None)
    stop = min(latest, earliest + timedelta(days=days - 1))
    start, end = availability.window_for(earliest, stop)
    calendar = m.calendar(start, end)
    found: list[datetime] = []
    day = earliest
    while day <= stop and len(found) < count:
        if day_allowed(day):
            one = dataclasses.replace(
                req,
                sessions=1,
                earliest_start=day,
                latest_date=day,
                target_interval_days=None,
                min_interval_days=1,
                max_interval_days=1,
                not_before=max(req.not_before, not_before) if req.not_before else not_before,
            )
            try:
                result = slots.find_series(calendar, one, alternatives=0)
            except InputError:  # no working hours
                return FreeTimes((), None)
            if result.proposal is not None and result.proposal.slots[0].start == appointment.start:
                # its own time: offer the next one that day instead
                after = dataclasses.replace(one, not_before=appointment.end)
                result = slots.find_series(calendar, after, alternatives=0)
            if result.proposal is not None:
                found.append(result.proposal.slots[0].start)
        day += timedelta(days=1)
    return FreeTimes(tuple(found), day if day <= latest else None)


def _rooms(series: list[Appointment]) -> list[Room]:
    """The rooms at the locations the series uses, its own first (none if it uses no room)."""
    own = [a.room for a in series if a.room_id]
    others = Room.objects.filter(location_id__in={r.location_id for r in own})
    return list({r.pk: r for r in [*own, *others.order_by("name", "pk")]}.values())


def _devices(appointment: Appointment) -> list[Equipment]:
    """Devices of the same kind as the session's own, its own first (none if it uses none)."""
    if appointment.equipment is None:
        return []
    same = Equipment.objects.filter(
        clinic_id=appointment.clinic_id, device=appointment.equipment.device
    ).order_by("name", "pk")
    return list({e.pk: e for e in [appointment.equipment, *same]}.values())


def _broken(series, index: int, new_start: datetime, low: int, high: int) -> tuple[str, ...]:
    """Later intervals out of range if only this session moved (what the shifts repair)."""
    days = [timezone.localtime(a.start).date() for a in series]
    days[index] = timezone.localtime(new_start).date()
    out = []
    for k in range(index + 1, len(days)):
        gap = (days[k] - days[k - 1]).days
        if not low <= gap <= high:
            out.append(
                f"session {k + 1} would be {gap} days after session {k}; allowed {low}-{high}"
            )
    return tuple(out)


def apply(
    actor: Actor, appointment: Appointment, new_start: datetime, fingerprint: str, now: datetime
):
    """Apply the previewed move and shifts, all or nothing, re-timing their reminders, after the
    safety gate for every treatment that moves.

    A patient (the portal) may move only their own booked or confirmed appointment, outside the
    clinic's notice period, to a time outside it that keeps the series' intervals without moving
    any other session.

    Raises SeriesChanged when the calendar no longer gives the previewed result, or ServiceError
    (the gate; 409 when a slot was taken)."""
    actor.require((*ANY_STAFF, PATIENT), "moving appointments")
    actor.own(appointment, "appointment")
    actor.require_self(appointment.patient)
    appointment.refresh_from_db(fields=["status", "start", "end"])
    if appointment.status not in OPEN_STATUSES:
        raise conflict(
            "status", f"a {appointment.get_status_display().lower()} appointment cannot move"
        )
    if actor.is_patient:
        _patient_may_move(appointment, new_start, now)
    with transaction.atomic():
        fresh = preview(appointment, new_start, now)
        if not fresh.result.ok:
            raise SeriesChanged(list(fresh.result.problems))
        if actor.is_patient and fresh.result.moved:
            raise ServiceError("start", SPACING)
        if fresh.fingerprint() != fingerprint:
            raise SeriesChanged(["the calendar changed since the preview: check the new proposal"])
        for m in fresh.moves():
            a = m.appointment
            if a.kind not in safety.TREATMENT_KINDS:
                continue
            for modality in safety.modalities_of(a.patient, a.modality):
                act = gate.Act(gate.ActKind.BOOK, modality, timezone.localtime(m.start).date())
                safety.check(actor, a.patient, act, precare_done=a.precare_confirmed)
        try:
            move_series(fresh.moves(), remind=True)
        except SlotTaken as exc:
            raise conflict("start", str(exc), code="slot-taken") from None
        for m in fresh.moves():
            record(actor, Action.UPDATE, m.appointment, summary="rescheduled")
        recall_sync.changed(appointment.patient)
    return fresh


SPACING = (
    "that time is too close to, or too far from, your other sessions: please choose another time"
)


def _patient_may_move(appointment: Appointment, new_start: datetime, now: datetime) -> None:
    if lifecycle.inside_notice(appointment, now):
        raise ServiceError("start", lifecycle.call_the_clinic(appointment.clinic))
    if new_start - now < lifecycle.notice(appointment.clinic):
        hours = appointment.clinic.cancel_notice_hours
        raise ServiceError("start", f"choose a time at least {hours} hours from now")
