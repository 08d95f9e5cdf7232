"""The patient moves their own appointment to another free time, outside the clinic's notice
period, through the same reschedule service the staff use."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from dermis.core.errors import InputError
from dermis.web.clinic import clock
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.portal import moving
from dermis.web.clinic.portal.access import patient_actor, patient_required
from dermis.web.clinic.scheduling import reschedule
from dermis.web.clinic.scheduling.series import SeriesChanged


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _start(value: str) -> datetime | None:
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if timezone.is_naive(start) else start


def _move(request, appointment, start: datetime, now: datetime) -> str:
    """'' when moved, else the plain reason it was not."""
    try:
        proposed = reschedule.preview(appointment, start, now)
        reschedule.apply(patient_actor(request), appointment, start, proposed.fingerprint(), now)
    except SeriesChanged:
        return moving.TAKEN  # someone booked it, or the series around it changed
    except InputError as err:  # a service's refusal, or the core's (a time in the past)
        return moving.refusal(ServiceError.of(err))
    return ""


@patient_required
def move(request, pk: int):
    appointment = (
        request.patient.appointments.select_related("clinic", "practitioner", "location")
        .filter(pk=pk)
        .first()
    )
    if appointment is None:
        raise Http404("no such appointment")
    now = clock.now()
    context = {"patient": request.patient, "appointment": appointment}
    if why := moving.why_not_movable(appointment, now):
        context["closed"] = why
        return render(request, "clinic/portal/move.html", context, status=409)
    status = 200
    if request.method == "POST":
        start = _start(str(request.POST.get("start", "")))
        error = "Choose one of the free times." if start is None else ""
        error = error or _move(request, appointment, start, now)
        if not error:
            messages.success(
                request,
                f"Your appointment is moved to {timezone.localtime(start):%A %-d %B %Y at %H:%M}.",
            )
            return redirect("portal-plan")
        context["error"] = error
        status = 400 if start is None else 409
        appointment.refresh_from_db()
    first = _day(str(request.GET.get("from", "")))
    context["offers"] = moving.offers(appointment, now, first)
    context["paged"] = first is not None
    return render(request, "clinic/portal/move.html", context, status=status)


urlpatterns = [
    path("my/appointments/<int:pk>/move/", move, name="portal-move"),
]
