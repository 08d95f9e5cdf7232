"""RFC 5545 calendars of appointments, for feeds and e-mail attachments (built with `icalendar`).

A calendar leaves the clinic's systems (a phone, a shared family calendar, a mail server), so its
text carries no clinical detail: for a patient the clinic, the kind of appointment and the
practitioner; for a practitioner the patient's initials and the kind, never a full name.
Times are written in UTC, so no VTIMEZONE is needed and every client agrees on the instant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from icalendar import Calendar, Event

from dermis.web.clinic.models import Appointment, Patient

PRODID = "-//Dermis//Dermis clinic calendar//EN"


class Audience(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"


def uid(appointment: Appointment) -> str:
    """Stable across moves, so a client updates the event instead of adding a second one."""
    return f"appointment-{appointment.pk}@dermis"


def initials(patient: Patient) -> str:
    parts = (patient.given_name, patient.family_name)
    return " ".join(f"{p.strip()[0].upper()}." for p in parts if p.strip()) or "?"


def place(appointment: Appointment) -> str:
    """Where the appointment is: the clinic and its address (no room: rooms are internal)."""
    loc = appointment.location
    if loc is None:
        clinic = appointment.clinic
        return f"{clinic.name}, {clinic.town}"
    return f"{appointment.clinic.name}, {loc.address}, {loc.town} {loc.postcode}"


def facts(appointment: Appointment, audience: Audience) -> tuple[str, ...]:
    """Everything the event says about `appointment` for `audience` (see the module docstring),
    as plain text: the same facts give the same event, so a feed's facts say whether it changed."""
    kind = appointment.get_kind_display()
    clinic = appointment.clinic
    status = "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED"
    if audience == Audience.PATIENT:
        contact = f" on {clinic.phone}" if clinic.phone else ""
        summary = f"{kind} at {clinic.name}"
        description = (
            f"{kind} with {appointment.practitioner.display_name}.\n"
            f"To change or cancel, contact {clinic.name}{contact}."
        )
        where = place(appointment)
    else:
        summary, description = f"{initials(appointment.patient)} · {kind}", ""
        where = (appointment.room.name if appointment.room else "") or place(appointment)
    start = appointment.start.astimezone(UTC).isoformat()
    end = appointment.end.astimezone(UTC).isoformat()
    return (uid(appointment), start, end, status, summary, description, where)


def event(appointment: Appointment, audience: Audience, *, stamp: datetime) -> Event:
    """One appointment as a VEVENT for `audience`."""
    return _event(facts(appointment, audience), stamp)


def _event(said: tuple[str, ...], stamp: datetime) -> Event:
    event_uid, start, end, status, summary, description, where = said
    ev = Event()
    ev.add("uid", event_uid)
    ev.add("dtstamp", stamp)
    ev.add("dtstart", datetime.fromisoformat(start))
    ev.add("dtend", datetime.fromisoformat(end))
    ev.add("status", status)
    ev.add("summary", summary)
    if description:
        ev.add("description", description)
    ev.add("location", where)
    return ev


def fingerprint(name: str, events: Iterable[tuple[str, ...]]) -> str:
    """The SHA-256 of a calendar's name and its events' facts (not of its bytes, which carry the
    time it last changed)."""
    digest = hashlib.sha256(name.encode())
    for said in events:
        digest.update(b"\x1e" + "\x1f".join(said).encode())
    return digest.hexdigest()


def calendar(
    appointments: Iterable[Appointment | tuple[str, ...]],
    audience: Audience,
    name: str,
    *,
    stamp: datetime | None = None,
) -> Calendar:
    """A VCALENDAR (METHOD:PUBLISH) with one event per appointment (or per appointment's
    `facts`); `stamp` (DTSTAMP) is now
    unless given (a feed gives the time its events last changed, so the same events give the
    same bytes)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    for appointment in appointments:
        said = appointment if isinstance(appointment, tuple) else facts(appointment, audience)
        cal.add_component(_event(said, stamp))
    return cal


def to_bytes(cal: Calendar) -> bytes:
    return cal.to_ical()


def token_hash(token: str) -> str:
    """A feed's token as stored: its SHA-256 (the token itself is shown once, never kept)."""
    return hashlib.sha256(token.encode()).hexdigest()
