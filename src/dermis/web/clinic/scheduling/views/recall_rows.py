"""The recall worklist's table rows, written out directly: the markup the template's loops wrote,
character for character (a test renders the old loops beside these for a varied clinic).

A page of 75 rows took the template engine about 10 ms (two hundred links, a hundred and fifty
dates, a thousand variable lookups); written here it is a fraction of that. Every value from the
database is escaped (quotes too), as the template escaped it.
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape  # the standard library's: Django's adds a lazy-string check per call

from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe

from dermis.web.url_shapes import by_number


def _e(value) -> str:
    return escape(str(value))


def _capfirst(value) -> str:
    text = str(value)
    return text and text[0].upper() + text[1:]


class _Links:
    """Each row's links and dates, the names' shapes and the months' names looked up once."""

    def __init__(self) -> None:
        self.patient = by_number("patient-detail")
        self.forecast = by_number("patient-forecast")
        self.recall = by_number("recall-patient")
        self.series = by_number("series-propose")
        self.months = {m: str(MONTHS_3[m]).title() for m in range(1, 13)}

    def day(self, d: date | None) -> str:  # {{ d|date:"j M Y" }}
        return "" if d is None else f"{d.day} {self.months[d.month]} {d.year:04d}"

    def day_month(self, at: datetime | None) -> str:  # {{ at|date:"j M" }}
        if at is None:
            return ""
        at = timezone.localtime(at) if timezone.is_aware(at) else at
        return f"{at.day} {self.months[at.month]}"

    def day_time(self, at: datetime) -> str:  # {{ at|date:"j M Y, H:i" }}
        at = timezone.localtime(at) if timezone.is_aware(at) else at
        return f"{self.day(at)}, {at.hour:02d}:{at.minute:02d}"


def _reach(p) -> str:
    phone = (
        f'<a href="tel:{_e(p.phone)}">{_e(p.phone)}</a>'
        if p.phone
        else '<span class="muted">no phone</span>'
    )
    email = (
        f'<a href="mailto:{_e(p.email)}" class="small">{_e(p.email)}</a>'
        if p.email
        else '<span class="small muted">no email</span>'
    )
    return f"{phone}<br>{email}"


def _contact(row, links: _Links) -> str:
    if not row.contact_label:
        return '<span class="small muted">not yet</span>'
    by = f" ({_e(row.contact_by)})" if row.contact_by else ""
    return (
        f'<span class="small">{_e(row.contact_label)}, {links.day_month(row.contact_at)}{by}</span>'
    )


def _spark(row, name: str, links: _Links) -> str:
    out = ""
    s = row.spark
    if s:
        w, h, ty = _e(s.get("width", "")), _e(s.get("height", "")), _e(s.get("threshold_y", ""))
        out = (
            f'\n          <svg class="spark" role="img" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" aria-label="{_e(s.get("label", ""))}">\n'
            f'            <line x1="0" x2="{w}" y1="{ty}" y2="{ty}" class="threshold"/>\n'
            f'            <polyline points="{_e(s.get("points", ""))}" class="median"/>\n'
            "          </svg><br>"
        )
    if row.chart:
        chart = (
            f'<a href="{_e(links.forecast(row.patient.pk))}">Forecast chart'
            f'<span class="vh"> of {name}</span></a>'
        )
    else:
        chart = f'<span class="small muted">No forecast: {_e(row.no_chart_reason)}.</span>'
    return f"{out}\n          {chart}"


def maintenance(rows: list, *, clinical: bool, today: date) -> SafeString:
    links, out = _Links(), []
    for row in rows:
        p = row.patient
        name = _e(p.full_name)
        when = links.day(row.due)
        if row.due is not None and row.due < today:
            when += ' <span class="badge warn">overdue</span>'
        if clinical:
            basis = "forecast" if row.basis == "forecast" else "interval"
            when += f'<br><span class="badge">{basis}</span>'
            detail = (
                f'<td class="small">{_e(_capfirst(row.why))}.</td>\n'
                f"        <td>{_spark(row, name, links)}</td>"
            )
        else:
            detail = ""
        out.append(
            "\n      <tr>\n"
            f'        <th scope="row"><a href="{_e(links.patient(p.pk))}">{name}</a></th>\n'
            f"        <td>{_reach(p)}</td>\n"
            f'        <td class="when">{when}</td>\n'
            f"        <td>{_e(_capfirst(row.modality))} maintenance</td>\n"
            f"        {detail}\n"
            f"        <td>{_contact(row, links)}</td>\n"
            f'        <td><a class="button primary" href="{_e(links.recall(p.pk))}'
            f'?propose=maintenance">Work<span class="vh"> {name}\'s maintenance</span></a></td>\n'
            "      </tr>\n    "
        )
    return mark_safe("".join(out))


def incomplete(rows: list, *, clinical: bool) -> SafeString:
    links, out = _Links(), []
    for row in rows:
        p = row.patient
        name = _e(p.full_name)
        book = (
            f'<a class="button primary" href="{_e(links.series(row.plan.pk))}'
            f'?course={_e(row.course)}">Book<span class="vh"> the rest of {name}\'s series'
            "</span></a> "
            if clinical
            else ""
        )
        out.append(
            "\n      <tr>\n"
            f'        <th scope="row"><a href="{_e(links.patient(p.pk))}">{name}</a></th>\n'
            f"        <td>{_reach(p)}</td>\n"
            f"        <td>{_e(_capfirst(row.modality))}, plan version {_e(row.plan.version)}</td>\n"
            f"        <td>{_e(row.counted)} of {_e(row.planned)}</td>\n"
            f"        <td>{links.day(row.due) or 'none yet'}</td>\n"
            f"        <td>{_contact(row, links)}</td>\n"
            f'        <td>{book}<a class="button" href="{_e(links.recall(p.pk))}">Log a call'
            f'<span class="vh"> with {name}</span></a></td>\n'
            "      </tr>\n    "
        )
    return mark_safe("".join(out))


def follow_ups(rows: list) -> SafeString:
    links, out = _Links(), []
    for row in rows:
        p, a = row.patient, row.appointment
        name = _e(p.full_name)
        out.append(
            "\n      <tr>\n"
            f'        <th scope="row"><a href="{_e(links.patient(p.pk))}">{name}</a></th>\n'
            f"        <td>{_reach(p)}</td>\n"
            f"        <td>{links.day_time(a.start)}</td>\n"
            f"        <td>{_e(a.practitioner_name)}</td>\n"
            f'        <td><span class="badge">{_e(a.get_status_display())}</span></td>\n'
            f"        <td>{_contact(row, links)}</td>\n"
            f'        <td><a class="button primary" href="{_e(links.recall(p.pk))}'
            f'?propose=follow_up&amp;appointment={a.pk}">Work<span class="vh"> {name}\'s '
            "follow-up</span></a></td>\n"
            "      </tr>\n    "
        )
    return mark_safe("".join(out))
