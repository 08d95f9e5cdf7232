"""One day of the diary as HTML: the grid's cells written out directly (a week of a large clinic
has well over a thousand of them, too many for the template engine's per-cell cost). Every value
from the database is escaped (quotes too); the markup is the one diary.css and diary.js expect."""

from __future__ import annotations

from html import escape  # the standard library's: Django's adds a lazy-string check per call

from django.utils.safestring import SafeString, mark_safe

from dermis.web.clinic.models import Appointment
from dermis.web.clinic.scheduling.availability import clinic_zone
from dermis.web.clinic.scheduling.diary import Day, Diary

KINDS = dict(Appointment.Kind.choices)
STATUSES = dict(Appointment.Status.choices)


def _at(cls: str, number: int, b) -> str:
    return f"{cls} gc-{number} gr-{b.row + 1} gs-{b.span}"


def day_html(diary: Diary, day: Day) -> SafeString:
    zone = clinic_zone()
    out = ['<div class="dg-corner gc-1" aria-hidden="true">Time</div>']
    out += [f'<div class="dg-head gc-{c.number}">{escape(c.title)}</div>' for c in day.columns]
    out += [
        f'<div class="dg-time gr-{row + 1} gs-4" aria-hidden="true">{label}</div>'
        for row, label in diary.times
    ]
    day_label = f"{day.day:%a} {day.day.day} {day.day:%b}"
    iso = day.day.isoformat()
    for c in day.columns:
        title = escape(c.title)
        out += [
            f'<div class="{_at("dg-hours", c.number, b)}" aria-hidden="true"></div>'
            for b in c.hours
        ]
        out += [
            f'<div class="{_at("dg-away", c.number, b)}">{escape(b.label)}'
            f'<span class="vh">: {title}</span></div>'
            for b in c.away
        ]
        out += [
            f'<a class="{_at("dg-slot", c.number, b)}" href="{escape(b.url)}" data-day="{iso}" '
            f'data-time="{b.label}" data-column="{c.key}"><span class="slot-plus" '
            f'aria-hidden="true">+ {b.label}</span><span class="vh">Book with {title}, '
            f"{day_label} {b.label}</span></a>"
            for b in c.slots
        ]
        for b in c.appointments:
            a = b.appointment
            cls = _at("dg-appt", c.number, b) + f" kind-{a.kind} status-{a.status}"
            if b.needs_outcome:
                cls += " needs-outcome"
            move = f' draggable="true" data-move-url="{escape(b.move_url)}"' if b.move_url else ""
            what = escape(KINDS.get(a.kind, a.kind)) + (
                f", {escape(a.modality)}" if a.modality else ""
            )
            status = "Needs an outcome" if b.needs_outcome else STATUSES.get(a.status, a.status)
            room = (
                f' <span class="what">with {escape(a.practitioner_name)}</span>'
                if diary.by == "room"
                else ""
            )
            out.append(
                f'<a class="{cls}" href="{escape(b.url)}" data-appointment="{a.pk}" '
                f'data-column="{c.key}"{move}><span class="when">'
                f"{a.start.astimezone(zone):%H:%M}</span> "
                f'<span class="who">{escape(a.patient_name)}</span> '
                f'<span class="what">{what}</span> <span class="st">{status}</span>{room}</a>'
            )
    if day.closed:
        out.append(f'<div class="dg-closed">Closed: {escape(day.closed)}</div>')
    return mark_safe("".join(out))
