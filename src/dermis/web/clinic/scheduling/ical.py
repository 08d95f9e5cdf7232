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


def event(appointment: Appointment, audience: Audience, *, stamp: datetime) -> Event:
    """One appointment as a VEVENT for `audience` (see the module docstring for what it says)."""
    kind = appointment.get_kind_display()
    clinic = appointment.clinic
    ev = Event()
    ev.add("uid", uid(appointment))
    ev.add("dtstamp", stamp)
    ev.add("dtstart", appointment.start.astimezone(UTC))
    ev.add("dtend", appointment.end.astimezone(UTC))
    ev.add("status", "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED")
    if audience == Audience.PATIENT:
        ev.add("summary", f"{kind} at {clinic.name}")
        contact = f" on {clinic.phone}" if clinic.phone else ""
        ev.add(
            "description",
            f"{kind} with {appointment.practitioner.display_name}.\n"
            f"To change or cancel, contact {clinic.name}{contact}.",
        )
        ev.add("location", place(appointment))
    else:
        ev.add("summary", f"{initials(appointment.patient)} · {kind}")
        where = appointment.room.name if appointment.room else ""
        ev.add("location", where or place(appointment))
    return ev


def calendar(
    appointments: Iterable[Appointment],
    audience: Audience,
    name: str,
    *,
    stamp: datetime | None = None,
) -> Calendar:
    """A VCALENDAR (METHOD:PUBLISH) with one event per appointment; `stamp` (DTSTAMP) is now
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
        cal.add_component(event(appointment, audience, stamp=stamp))
    return cal


def to_bytes(cal: Calendar) -> bytes:
    return cal.to_ical()


def token_hash(token: str) -> str:
    """A feed's token as stored: its SHA-256 (the token itself is shown once, never kept)."""
    return hashlib.sha256(token.encode()).hexdigest()
