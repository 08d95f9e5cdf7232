"""The clinic's set-up for booking: working hours, time off, rooms and devices.

Admins set everyone's hours, rooms and devices; a practitioner may add their own time off.
Each write is audited in its own transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, time

from django.db import transaction
from django.db.models import ProtectedError

from dermis.web.clinic import clock
from dermis.web.clinic.actors import ADMIN_ONLY, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.errors import ServiceError, conflict, forbidden, not_found
from dermis.web.clinic.models import (
    CalendarFeed,
    Equipment,
    Location,
    Patient,
    Room,
    StaffMember,
    TimeOff,
    WorkingHours,
)
from dermis.web.clinic.scheduling.ical import token_hash

HoursRow = tuple[int, time, time, Location | None]  # weekday, start, end, location


def set_weekly_hours(actor: Actor, staff: StaffMember, rows: Iterable[HoursRow]) -> int:
    """Replace a practitioner's weekly hours; returns the number of working days."""
    actor.require(ADMIN_ONLY, "changing working hours")
    actor.own(staff, "staff")
    made = []
    for weekday, start, end, location in rows:
        if not 0 <= weekday <= 6:
            raise ServiceError("weekday", "must be 0 (Monday) to 6 (Sunday)")
        if end <= start:
            raise ServiceError("end", "must be after the start")
        if location is not None and location.clinic_id != actor.clinic.pk:
            raise ServiceError("location", "is not one of this clinic's")
        made.append(
            WorkingHours(staff=staff, weekday=weekday, start=start, end=end, location=location)
        )
    days = len({r.weekday for r in made})
    with transaction.atomic():
        staff.working_hours.all().delete()
        WorkingHours.objects.bulk_create(made)
        record(actor, Action.UPDATE, staff, summary=f"working hours: {days} day(s)")
    return days


def add_time_off(
    actor: Actor, staff: StaffMember, start: datetime, end: datetime, reason: str = ""
) -> TimeOff:
    actor.own(staff, "staff")
    if not (actor.role in ADMIN_ONLY or actor.staff == staff):
        raise forbidden("only the clinic admin adds time off for a colleague")
    if end <= start:
        raise ServiceError("end", "must be after the start")
    with transaction.atomic():
        off = TimeOff.objects.create(staff=staff, start=start, end=end, reason=reason.strip())
        record(actor, Action.UPDATE, staff, summary="time off added")
    return off


def remove_time_off(actor: Actor, staff: StaffMember, time_off_id: int) -> None:
    actor.own(staff, "staff")
    if not (actor.role in ADMIN_ONLY or actor.staff == staff):
        raise forbidden("only the clinic admin removes time off for a colleague")
    with transaction.atomic():
        off = TimeOff.objects.filter(pk=time_off_id, staff=staff).first()
        if off is None:
            raise not_found("time_off")
        off.delete()
        record(actor, Action.UPDATE, staff, summary="time off removed")


def add_room(actor: Actor, name: str, location: Location) -> Room:
    actor.require(ADMIN_ONLY, "changing rooms")
    actor.own(location, "location")
    if not name.strip():
        raise ServiceError("name", "is required")
    with transaction.atomic():
        room = Room.objects.create(clinic=actor.clinic, location=location, name=name.strip())
        record(actor, Action.CREATE, room, summary="room added")
    return room


def add_equipment(actor: Actor, name: str, device: str, serial_number: str = "") -> Equipment:
    actor.require(ADMIN_ONLY, "changing devices")
    if device not in knowledge().devices:
        raise ServiceError("device", f"unknown device '{device}'")
    if not name.strip():
        raise ServiceError("name", "is required")
    with transaction.atomic():
        item = Equipment.objects.create(
            clinic=actor.clinic, name=name.strip(), device=device, serial_number=serial_number
        )
        record(actor, Action.CREATE, item, summary="device added")
    return item


def remove_resource(actor: Actor, item: Room | Equipment, noun: str) -> None:
    """Remove a room or a device that has no appointments (409 when it has)."""
    actor.require(ADMIN_ONLY, f"changing {noun}s")
    actor.own(item, noun)
    try:
        with transaction.atomic():
            item.delete()
            record(actor, Action.UPDATE, summary=f"{noun} removed")
    except ProtectedError:
        raise conflict(noun, f"{item.name} has appointments, so it stays on the list") from None


def create_feed(
    actor: Actor, *, staff: StaffMember | None = None, patient: Patient | None = None
) -> tuple[CalendarFeed, str]:
    """A secret feed address for a practitioner's or a patient's appointments: the token is
    returned once and only its hash is kept."""
    if (staff is None) == (patient is None):
        raise ServiceError("owner", "a feed is for one practitioner or one patient")
    actor.own(staff or patient, "staff" if staff else "patient")
    if patient is not None:
        actor.require_self(patient)  # a signed-in patient makes a feed of their own only
    elif actor.is_patient:
        raise ServiceError("owner", "a patient makes a feed of their own appointments only")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = CalendarFeed.objects.create(
            token_sha256=token_hash(token), staff=staff, patient=patient, created_by=actor.user
        )
        record(actor, Action.CREATE, feed, patient=patient, summary="calendar feed")
    return feed, token


def note_feed_content(feed: CalendarFeed, content_sha256: str) -> datetime:
    """When the feed's events last changed: now if they differ from the last fetch's, else the
    time kept. Only a hash is kept (no event text), and no audit event: nothing was done."""
    if feed.content_sha256 == content_sha256 and feed.content_changed_at is not None:
        return feed.content_changed_at
    changed_at = clock.now().replace(microsecond=0)
    CalendarFeed.objects.filter(pk=feed.pk).update(
        content_sha256=content_sha256, content_changed_at=changed_at
    )
    feed.content_sha256, feed.content_changed_at = content_sha256, changed_at
    return changed_at


def revoke_feed(actor: Actor, feed: CalendarFeed) -> None:
    owner = feed.staff or feed.patient
    actor.own(owner, "feed")
    may = actor.role in ADMIN_ONLY or (actor.staff and feed.staff_id == actor.staff.pk)
    if not (may or (actor.user is not None and feed.created_by_id == actor.user.pk)):
        raise forbidden("only the feed's owner or a clinic admin may revoke it")
    if feed.revoked_at is not None:
        return
    with transaction.atomic():
        CalendarFeed.objects.filter(pk=feed.pk).update(revoked_at=clock.now())
        record(actor, Action.UPDATE, feed, patient=feed.patient, summary="calendar feed revoked")
    feed.refresh_from_db()
