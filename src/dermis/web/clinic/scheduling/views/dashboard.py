"""Today: the clinic's appointments for the day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Q
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from dermis.web.clinic.access import staff_required
from dermis.web.clinic.models import OPEN_STATUSES, Appointment, Role
from dermis.web.clinic.reminders.selectors import recent_failures

ROWS = 30  # a busy clinic's day is in the diary; the dashboard shows what needs attention


@staff_required()
def dashboard(request):
    day = timezone.localdate()
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    now = timezone.now()
    today = Appointment.objects.filter(
        clinic=request.staff.clinic, start__gte=start, start__lt=start + timedelta(days=1)
    ).select_related("patient", "practitioner")
    appointments = list(today.order_by("start", "pk")[: ROWS + 1])
    total = len(appointments)
    if total > ROWS:  # a busy day: what is still to come or still open, then the diary
        total = today.count()
        attention = Q(end__gte=now) | Q(status__in=OPEN_STATUSES)
        appointments = list(today.filter(attention).order_by("start", "pk")[:ROWS])
    context = {"day": day, "appointments": appointments, "now": now, "total": total}
    if request.staff.role in (Role.ADMIN, Role.FRONT_DESK):
        context["failed_reminders"] = recent_failures(request.staff.clinic)
    return render(request, "clinic/dashboard/today.html", context)


urlpatterns = [path("", dashboard, name="dashboard")]
