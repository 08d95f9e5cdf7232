"""RFC 5545 calendars of appointments, for feeds and e-mail attachments (built with `icalendar`).

A calendar leaves the clinic's systems (a phone, a shared family calendar, a mail server), so its
text carries no clinical detail: for a patient the clinic, the kind of appointment and the
practitioner; for a practitioner the patient's initials and the kind, never a full name.
Times are written in UTC, so no VTIMEZONE is needed and every client agrees on the instant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum

from django.db import connections
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast
from icalendar import Calendar, Event

import dermis
from dermis.web.clinic.models import Appointment, Patient

PRODID = "-//Dermis//Dermis clinic calendar//EN"


class Audience(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"


def uid(appointment: Appointment) -> str:
    """Stable across moves, so a client updates the event instead of adding a second one."""
    return f"appointment-{appointment.pk}@dermis"


def initials(patient: Patient) -> str:
    return _initials(patient.given_name, patient.family_name)


def _initials(given: str, family: str) -> str:
    return " ".join(f"{p.strip()[0].upper()}." for p in (given, family) if p.strip()) or "?"


def place(appointment: Appointment) -> str:
    """Where the appointment is: the clinic and its address (no room: rooms are internal)."""
    return _place(_row(appointment))


def _place(row: dict) -> str:
    if row["location_id"] is None:
        return f"{row['clinic__name']}, {row['clinic__town']}"
    return (
        f"{row['clinic__name']}, {row['location__address']}, "
        f"{row['location__town']} {row['location__postcode']}"
    )


# What an event is made of, as one query's columns (a feed reads these, not whole models).
ROW_FIELDS = (
    "pk", "start", "end", "status", "kind", "clinic__name", "clinic__phone", "clinic__town",
    "location_id", "location__address", "location__town", "location__postcode",
    "practitioner__display_name", "patient__given_name", "patient__family_name", "room__name",
)  # fmt: skip
KINDS = dict(Appointment.Kind.choices)


def _row(a: Appointment) -> dict:
    clinic, loc = a.clinic, a.location
    return {
        "pk": a.pk, "start": a.start, "end": a.end, "status": a.status, "kind": a.kind,
        "clinic__name": clinic.name, "clinic__phone": clinic.phone, "clinic__town": clinic.town,
        "location_id": a.location_id,
        "location__address": loc.address if loc else None,
        "location__town": loc.town if loc else None,
        "location__postcode": loc.postcode if loc else None,
        "practitioner__display_name": a.practitioner.display_name,
        "patient__given_name": a.patient.given_name,
        "patient__family_name": a.patient.family_name,
        "room__name": a.room.name if a.room else None,
    }  # fmt: skip


def facts(appointment: Appointment, audience: Audience) -> tuple[str, ...]:
    """Everything the event says about `appointment` for `audience` (see the module docstring),
    as plain text: the same facts give the same event, so a feed's facts say whether it changed."""
    return row_facts(_row(appointment), audience)


def row_facts(row: dict, audience: Audience) -> tuple[str, ...]:
    """`facts` of an appointment read as `ROW_FIELDS` (`queryset.values(*ROW_FIELDS)`)."""
    kind = str(KINDS.get(row["kind"], row["kind"]))
    name = row["clinic__name"]
    status = "CANCELLED" if row["status"] == "cancelled" else "CONFIRMED"
    if audience == Audience.PATIENT:
        contact = f" on {row['clinic__phone']}" if row["clinic__phone"] else ""
        summary = f"{kind} at {name}"
        description = (
            f"{kind} with {row['practitioner__display_name']}.\n"
            f"To change or cancel, contact {name}{contact}."
        )
        where = _place(row)
    else:
        who = _initials(row["patient__given_name"], row["patient__family_name"])
        summary, description = f"{who} · {kind}", ""
        where = row["room__name"] or _place(row)
    start = row["start"].astimezone(UTC).isoformat()
    end = row["end"].astimezone(UTC).isoformat()
    return (f"appointment-{row['pk']}@dermis", start, end, status, summary, description, where)


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


def said(appointments: QuerySet) -> QuerySet:
    """The `ROW_FIELDS` of `appointments` as the fingerprint reads them (times as text)."""
    return appointments.annotate(
        start_text=Cast("start", CharField()), end_text=Cast("end", CharField())
    ).values_list("start_text", "end_text", *(f for f in ROW_FIELDS if f not in ("start", "end")))


def columns_fingerprint(
    name: str,
    audience: Audience,
    appointments: QuerySet,
    statement: Callable[[], tuple[str, list] | None] | None = None,
) -> str:
    """The SHA-256 of a calendar's name and of the `ROW_FIELDS` its events are made of, as the
    database holds them (times as text, rows as tuples), so whether a feed changed is known
    without parsing a time or building an event. It changes whenever an event would (and, more
    rarely, when a column changes that no event shows, such as a full name behind the same
    initials); the release is part of it, so a new way of writing events is a change too.

    PostgreSQL hashes the rows itself (`_rows_digest`): a practitioner's feed holds about a
    thousand, and sending them to be hashed here took twice as long as reading them.
    `statement`, when given, gives `said(appointments)`'s SQL and parameters composed already
    (None: no rows)."""
    digest = hashlib.sha256(f"{dermis.__version__}\x1e{audience}\x1e{name}".encode())
    connection = connections[appointments.db]
    if connection.vendor == "postgresql":
        if statement is None:
            found = said(appointments).query.get_compiler(connection=connection).as_sql()
        else:
            found = statement()
        digest.update(_rows_digest(connection, found))
        return digest.hexdigest()
    for row in said(appointments):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def _rows_digest(connection, found: tuple[str, list] | None) -> bytes:
    """The SHA-256 of the rows of the query `found` (sql, params), computed by PostgreSQL: each
    row as its text (a record's text quotes any value with a comma, quote or bracket, and tells
    NULL from an empty string), in the order of their ids, one per line; the rows never leave the
    database. No query (it matches nothing) hashes as no rows."""
    if found is None:
        return hashlib.sha256(b"").digest()
    inner, params = found
    sql = (
        "SELECT sha256(convert_to(coalesce(string_agg(t::text, E'\\n' ORDER BY t.pk), ''), "
        f"'UTF8')) FROM ({inner}) AS t"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bytes(cursor.fetchone()[0])


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
