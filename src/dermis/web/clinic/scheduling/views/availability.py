"""Scheduling: availability (this module), series booking and rescheduling (scheduling_series),
the recall worklist (scheduling_recall).

Availability: every member of staff sees the practitioners' weekly hours, time off, rooms and
equipment; the clinic admin changes them, and a practitioner may add their own time off.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from dermis.core.slots_calendar import WEEKDAYS
from dermis.web.clinic.access import ANY_STAFF, actor_of, staff_required
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.models import Equipment, Room, StaffMember, TimeOff, WorkingHours
from dermis.web.clinic.scheduling import availability, setup, versions
from dermis.web.clinic.scheduling.forms import (
    EquipmentForm,
    HoursForm,
    RoomForm,
    TimeOffForm,
)
from dermis.web.clinic.scheduling.views import closures as scheduling_closures
from dermis.web.clinic.scheduling.views import diary as scheduling_diary
from dermis.web.clinic.scheduling.views import lifecycle as scheduling_lifecycle
from dermis.web.clinic.scheduling.views import recall as scheduling_recall
from dermis.web.clinic.scheduling.views import series as scheduling_series
from dermis.web.clinic.together import read_together

PER_PAGE = 10  # practitioners a page shows


def _shown(request, staff: list, focus: int | None) -> tuple[list, dict]:
    """The page of practitioners to show: the one holding `focus` (a form being edited or with
    errors), else `?page=`; PER_PAGE at a time, so the page is one size however large the
    clinic."""
    ids = [s.pk for s in staff]
    pages = max(1, -(-len(staff) // PER_PAGE))
    raw = request.GET.get("page", "")
    page = ids.index(focus) // PER_PAGE + 1 if focus in ids else int(raw) if raw.isdigit() else 1
    page = min(max(1, page), pages)
    first = (page - 1) * PER_PAGE
    shown = staff[first : first + PER_PAGE]
    paging = {
        "page": page,
        "pages": pages,
        "shown": f"{first + 1}–{first + len(shown)}",
        "of": len(staff),
        "previous": page - 1 if page > 1 else None,
        "next": page + 1 if page < pages else None,
    }
    return shown, paging


def _people(request, bound: dict, now: datetime) -> tuple[list[dict], dict]:
    me = request.staff
    editing = request.GET.get("edit", "")
    editing = int(editing) if editing.isdigit() else None
    adding = request.GET.get("off", "")
    adding = int(adding) if adding.isdigit() else None
    focus = editing or adding or next((key[1] for key in bound if isinstance(key, tuple)), None)
    people = []
    locations = availability.clinic_locations(me.clinic)
    coming = Prefetch(
        "time_off", TimeOff.objects.filter(end__gte=now).order_by("start"), to_attr="coming_off"
    )
    shown, paging = _shown(request, availability.treating_staff(me.clinic), focus)
    hours = Prefetch("working_hours", WorkingHours.objects.select_related("location"))
    prefetch_related_objects(shown, hours, coming)  # each with its location: one read
    for person in shown:
        row = {
            "staff": person,
            "hours": [
                {"day": WEEKDAYS[h.weekday], "row": h}
                for h in sorted(person.working_hours.all(), key=lambda h: (h.weekday, h.start))
            ],
            "time_off": person.coming_off,
            "can_add_off": me.is_admin or me.pk == person.pk,
        }
        # An hours form is a week of fields: the admin opens one practitioner's at a time, so
        # the page stays the same size whatever the number of practitioners.
        if me.is_admin and (("hours", person.pk) in bound or editing == person.pk):
            row["hours_form"] = bound.get(("hours", person.pk)) or HoursForm(
                staff=person, locations=locations
            )
        # Likewise the time-off form: the admin opens one at a time ("Add time off for …"); a
        # practitioner, who may add only their own, has theirs on the page.
        asked = ("off", person.pk) in bound or adding == person.pk
        if row["can_add_off"] and (asked or not me.is_admin):
            row["off_form"] = bound.get(("off", person.pk)) or TimeOffForm(staff=person)
            row["off_open"] = asked
        people.append(row)
    return people, paging


def _page(request, bound: dict | None = None, status: int = 200):
    me = request.staff
    token = get_token(request)  # one for the whole page, its logout form's too
    if bound:  # a form sent back with its errors: this request's own page
        body = _body(request, bound, timezone.now(), token)[0]
        return _framed(request, body, token, status)
    # Otherwise the same for every view of this member of staff with these parameters until the
    # clinic's schedule changes or time off shown ends (scheduling/versions.py).
    now = timezone.now()
    asked = tuple(request.GET.get(name, "") for name in ("page", "edit", "off"))
    parts = (me.pk, me.role, *asked)
    body = versions.kept(
        "availability",
        me.clinic_id,
        parts,
        now,
        lambda: _body(request, {}, now, versions.CSRF_MARK),
    )
    return _framed(request, body.replace(versions.CSRF_MARK, token), token, status)


def _framed(request, body: str, token: str, status: int):
    context = {"body": mark_safe(body), "csrf_token": token}  # body: the page's own template
    return render(request, "clinic/scheduling/availability.html", context, status=status)


def _body(request, bound: dict, now: datetime, csrf_token: str) -> tuple[str, datetime | None]:
    """The page's content and the moment it stops being right (the first time off shown ending;
    None: only a change to the schedule makes it wrong)."""
    clinic = request.staff.clinic
    # The clinic's equipment, rooms and locations (for the page and the forms' menus) and its
    # practitioners in one round trip.
    reads = [availability.EQUIPMENT.ahead(None, clinic=clinic.pk)]
    reads += [availability.ROOMS.ahead(None, clinic=clinic.pk), *availability.menu_reads(clinic)]
    if request.staff.is_admin:  # the room form's menu of locations reads them again
        reads.append(availability.LOCATIONS.ahead(None, clinic=clinic.pk))
    with read_together(*reads):
        context = _drawn(request, bound, now)
    context |= {"csrf_token": csrf_token, "clinical": request.staff.is_clinical}
    ends = [off.end for p in context["people"] for off in p["time_off"]]
    body = render_to_string("clinic/scheduling/_availability.html", context)
    return body, min(ends, default=None)


def _drawn(request, bound: dict, now: datetime) -> dict:
    clinic = request.staff.clinic
    kb = knowledge()
    equipment = [
        {"item": e, "kind": kb.devices[e.device].name if e.device in kb.devices else e.device}
        for e in availability.equipment_of(clinic)
    ]
    people, paging = _people(request, bound, now)
    context = {
        "people": people,
        "paging": paging if paging["pages"] > 1 else None,
        "rooms": availability.rooms_of(clinic),
        "equipment": equipment,
        "is_admin": request.staff.is_admin,
    }
    if request.staff.is_admin:
        context["room_form"] = bound.get("room") or RoomForm(clinic=clinic)
        context["equipment_form"] = bound.get("equipment") or EquipmentForm(clinic=clinic)
    errors = [item for form in bound.values() for item in form.error_summary()]
    context["error_summary"] = errors
    return context


def _back(anchor: str = ""):
    return redirect(reverse("availability") + (f"#{anchor}" if anchor else ""))


def _colleague(request, staff_id: int) -> StaffMember:
    # Another clinic's member of staff is a 404, as a patient is: the id confirms nothing.
    return get_object_or_404(StaffMember, pk=staff_id, clinic=request.staff.clinic)


@staff_required(ANY_STAFF)
def availability_page(request):
    return _page(request)


@staff_required(ANY_STAFF)
@require_POST
def availability_hours(request, staff_id: int):
    person = _colleague(request, staff_id)
    if not request.staff.is_admin:
        raise PermissionDenied("Only the clinic admin changes working hours.")
    form = HoursForm(request.POST, staff=person)
    if not form.is_valid():
        return _page(request, {("hours", person.pk): form}, status=400)
    setup.set_weekly_hours(actor_of(request), person, form.rows())
    messages.success(request, f"Working hours of {person.display_name} saved.")
    return _back(f"staff-{person.pk}")


@staff_required(ANY_STAFF)
@require_POST
def availability_time_off(request, staff_id: int):
    person = _colleague(request, staff_id)
    if not (request.staff.is_admin or request.staff.pk == person.pk):
        raise PermissionDenied("Only the clinic admin adds time off for a colleague.")
    if "delete" in request.POST:
        pk = request.POST.get("delete") or "0"
        try:
            setup.remove_time_off(actor_of(request), person, int(pk) if pk.isdigit() else 0)
        except ServiceError:
            messages.error(request, "That time off was already removed.")
        else:
            messages.success(request, "Time off removed.")
        return _back(f"staff-{person.pk}")
    form = TimeOffForm(request.POST, staff=person)
    if not form.is_valid():
        return _page(request, {("off", person.pk): form}, status=400)
    d = form.cleaned_data
    setup.add_time_off(actor_of(request), person, d["start"], d["end"], d["reason"])
    messages.success(request, f"Time off for {person.display_name} added.")
    return _back(f"staff-{person.pk}")


def _resource_post(request, model, form_class, key: str, noun: str):
    """Add (form) or remove (`delete`) a room or a device of the admin's clinic."""
    if not request.staff.is_admin:
        raise PermissionDenied(f"Only the clinic admin changes {noun}s.")
    clinic = request.staff.clinic
    if "delete" in request.POST:
        item = model.objects.filter(pk=request.POST.get("delete") or 0, clinic=clinic).first()
        if item is None:
            messages.error(request, f"That {noun} was already removed.")
            return _back(key)
        try:
            setup.remove_resource(actor_of(request), item, noun)
        except ServiceError as err:
            messages.error(request, sentence(err.message))
        else:
            messages.success(request, f"{item.name} removed.")
        return _back(key)
    form = form_class(request.POST, clinic=clinic)
    if not form.is_valid():
        return _page(request, {key: form}, status=400)
    d = form.cleaned_data
    if model is Room:
        item = setup.add_room(actor_of(request), d["name"], d["location"])
    else:
        item = setup.add_equipment(actor_of(request), d["name"], d["device"], d["serial_number"])
    messages.success(request, f"{item.name} added.")
    return _back(key)


@staff_required(ANY_STAFF)
@require_POST
def availability_rooms(request):
    return _resource_post(request, Room, RoomForm, "room", "room")


@staff_required(ANY_STAFF)
@require_POST
def availability_equipment(request):
    return _resource_post(request, Equipment, EquipmentForm, "equipment", "device")


urlpatterns = [
    path("schedule/availability/", availability_page, name="availability"),
    path(
        "schedule/availability/<int:staff_id>/hours/",
        availability_hours,
        name="availability-hours",
    ),
    path(
        "schedule/availability/<int:staff_id>/time-off/",
        availability_time_off,
        name="availability-timeoff",
    ),
    path("schedule/rooms/", availability_rooms, name="availability-rooms"),
    path("schedule/equipment/", availability_equipment, name="availability-equipment"),
    *scheduling_series.urlpatterns,
    *scheduling_recall.urlpatterns,
    *scheduling_lifecycle.urlpatterns,
    *scheduling_diary.urlpatterns,
    *scheduling_closures.urlpatterns,
]
