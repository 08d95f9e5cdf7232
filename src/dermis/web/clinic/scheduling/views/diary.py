"""The diary: day and week grids per practitioner or room, booking from an empty slot, and one
appointment's page with its lifecycle steps.

Server-rendered HTML on a CSS grid (no calendar library: placement is by classes from diary.css,
so no inline styles); diary.js adds drag-to-move, which opens the reschedule preview (the same
interval checks as the keyboard "Move" link). Booking and moving go through the scheduling
services and their safety gate like every other door.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.http import QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.safestring import mark_safe

from dermis.web.clinic.access import ANY_STAFF, actor_of, clinic_object, staff_required
from dermis.web.clinic.models import Appointment, Location, StaffMember, TreatmentSession
from dermis.web.clinic.patients import selectors as patient_selectors
from dermis.web.clinic.patients.filters import PatientFilter
from dermis.web.clinic.scheduling import diary, lifecycle, versions
from dermis.web.clinic.scheduling.availability import clinic_zone
from dermis.web.clinic.scheduling.views import diary_grid
from dermis.web.url_shapes import by_number

VIEWS = ("day", "week")
BY = ("practitioner", "room")


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _params(request) -> dict:
    q = request.GET
    day = parse_date(q.get("date") or "") or timezone.localdate()
    view = q.get("view") if q.get("view") in VIEWS else "day"
    if view == "week":
        day -= timedelta(days=day.weekday())
    by = q.get("by") if q.get("by") in BY else "practitioner"
    return {
        "day": day,
        "view": view,
        "by": by,
        "location": _int(q.get("location")),
        "practitioner": _int(q.get("practitioner")),
        "cols": _int(q.get("cols")) or 1,
    }


def _query(**params) -> str:
    params = {k: v for k, v in params.items() if v not in (None, "")}
    for k, v in params.items():
        if isinstance(v, date):
            params[k] = v.isoformat()
    return urlencode(params)


@staff_required(ANY_STAFF)
def diary_page(request):
    p = _params(request)
    clinic = request.staff.clinic
    now = timezone.now()
    # The same for every member of staff of the clinic but the admins' link to closures: kept by
    # the clinic's schedule version while nothing it shows changes (scheduling/versions.py).
    is_admin = request.staff.is_admin
    parts = (*p.values(), is_admin)
    body = versions.kept("diary", clinic.pk, parts, now, lambda: _draw(clinic, p, is_admin, now))
    return render(request, "clinic/diary/diary.html", {"body": mark_safe(body)})  # our template


def _draw(clinic, p: dict, is_admin: bool, now: datetime) -> tuple[str, datetime | None]:
    """The diary's content as `p` asks for it at `now`, and the moment it stops being right."""
    location = (
        Location.objects.filter(clinic=clinic, pk=p["location"]).first() if p["location"] else None
    )
    d = diary.build(
        clinic,
        p["day"],
        view=p["view"],
        by=p["by"],
        location=location,
        practitioner=p["practitioner"],
        columns_page=p["cols"],
        now=now,
    )
    _link(d, p["location"], now)
    for x in d.days:
        x.html = diary_grid.day_html(d, x)
    step = 7 if p["view"] == "week" else 1
    keep = {
        "view": p["view"],
        "by": p["by"],
        "location": p["location"],
        "practitioner": p["practitioner"],
        "cols": d.column_page if d.column_pages > 1 else None,
    }
    first_col = (d.column_page - 1) * diary.COLUMNS_PER_PAGE + 1
    columns_nav = {
        "shown": f"{first_col}–{first_col + len(d.days[0].columns if d.days else []) - 1}",
        "of": d.column_total,
        "previous": d.column_page > 1
        and f"?{_query(date=p['day'], **{**keep, 'cols': d.column_page - 1})}",
        "next": d.column_page < d.column_pages
        and f"?{_query(date=p['day'], **{**keep, 'cols': d.column_page + 1})}",
    }
    context = {
        "diary": d,
        "params": p,
        "is_admin": is_admin,
        "prev_url": f"?{_query(date=p['day'] - timedelta(days=step), **keep)}",
        "next_url": f"?{_query(date=p['day'] + timedelta(days=step), **keep)}",
        "today_url": f"?{_query(**keep)}",
        "day_url": f"?{_query(date=p['day'], **{**keep, 'view': 'day'})}",
        "week_url": f"?{_query(date=p['day'], **{**keep, 'view': 'week'})}",
        "columns_nav": columns_nav if d.column_pages > 1 else None,
        "columns_class": f"cols-{max((len(x.columns) for x in d.days), default=1)}",
        "row_class": f"rows-{d.rows}",
    }
    return render_to_string("clinic/diary/_diary.html", context), d.changes_at


@staff_required(ANY_STAFF)
def diary_book(request):
    """From an empty slot: find the patient, then the booking form with the slot filled in."""
    clinic = request.staff.clinic
    who = StaffMember.objects.filter(
        clinic=clinic, pk=_int(request.GET.get("practitioner"))
    ).first()
    start = parse_datetime(request.GET.get("start") or "")
    if start is not None and timezone.is_naive(start):
        start = start.replace(tzinfo=clinic_zone())
    location = Location.objects.filter(clinic=clinic, pk=_int(request.GET.get("location"))).first()
    q = (request.GET.get("q") or "").strip()
    patients = []
    if q:
        found = patient_selectors.search(actor_of(request), PatientFilter(q=q))
        patients = list(found[:20])
    prefill = _query(
        practitioner=who.pk if who else None,
        start=timezone.localtime(start).strftime("%Y-%m-%dT%H:%M") if start else None,
        location=location.pk if location else None,
        next=request.GET.get("next") or reverse("diary"),
    )
    context = {
        "who": who,
        "start": start,
        "location": location,
        "q": q,
        "patients": patients,
        "prefill": prefill,
        "keep": QueryDict(mutable=True),
    }
    for name in ("practitioner", "start", "location", "next"):
        if request.GET.get(name):
            context["keep"][name] = request.GET[name]
    return render(request, "clinic/diary/book.html", context)


@staff_required(ANY_STAFF)
def appointment_detail(request, pk: int):
    appointment = clinic_object(request, Appointment, pk)
    now = timezone.now()
    back = request.GET.get("next") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = f"{reverse('diary')}?{_query(date=timezone.localtime(appointment.start).date())}"
    session = TreatmentSession.objects.filter(appointment=appointment).first()
    steps = [
        (s, lifecycle.LABELS.get(s, s))
        for s in lifecycle.next_steps(request.staff.role, appointment, now)
    ]
    context = {
        "appointment": appointment,
        "patient": appointment.patient,
        "steps": steps,
        "back": back,
        "here": request.get_full_path(),
        "needs_outcome": lifecycle.needs_outcome(appointment, now),
        "session": session,
        "can_chart": request.staff.is_clinical
        and session is None
        and appointment.kind in ("treatment", "maintenance")
        and appointment.status not in ("cancelled", "no_show"),
        "movable": appointment.is_open and appointment.start > now,
    }
    return render(request, "clinic/diary/appointment.html", context)


def _link(d: diary.Diary, location: int | None, now: datetime) -> None:
    """Each empty slot's booking link and each appointment's page and move links."""
    book = reverse("diary-book")
    # From each name's shape, not a reverse() per appointment: a week holds hundreds.
    detail, reschedule = by_number("appointment-detail"), by_number("appointment-reschedule")
    zone = timezone.get_current_timezone()
    for day in d.days:
        back = f"{reverse('diary')}?{_query(date=day.day, view=d.view, by=d.by, location=location)}"
        suffix = "?" + _query(next=back)
        # Encoded once a day: what every slot of the day shares after its column and time.
        shared = _query(location=location, next=back)
        for col in day.columns:
            if col.slots:  # a column's slots differ only in their time
                head = f"{book}?" + "&".join(
                    part for part in (_query(practitioner=col.key), "{}", shared) if part
                )
            for b in col.slots:
                local = b.start.astimezone(zone)
                b.url = head.format(f"start={local:%Y-%m-%dT%H}%3A{local:%M}")  # urlencoded
                b.label = f"{local:%H:%M}"
            for b in col.appointments:
                a = b.appointment
                b.url = detail(a.pk) + suffix
                if a.is_open and a.start > now:
                    b.move_url = reschedule(a.pk)


urlpatterns = [
    path("diary/", diary_page, name="diary"),
    path("diary/book/", diary_book, name="diary-book"),
    path("appointments/<int:pk>/", appointment_detail, name="appointment-detail"),
]
