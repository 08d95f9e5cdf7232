"""Today: the clinic's appointments for the day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from dermis.web.clinic.access import staff_required
from dermis.web.clinic.models import Appointment, Role
from dermis.web.clinic.reminders.selectors import recent_failures


@staff_required()
def dashboard(request):
    day = timezone.localdate()
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    appointments = (
        Appointment.objects.filter(
            clinic=request.staff.clinic, start__gte=start, start__lt=start + timedelta(days=1)
        )
        .select_related("patient", "practitioner")
        .order_by("start")
    )
    context = {"day": day, "appointments": appointments, "now": timezone.now()}
    if request.staff.role in (Role.ADMIN, Role.FRONT_DESK):
        context["failed_reminders"] = recent_failures(request.staff.clinic)
    return render(request, "clinic/dashboard/today.html", context)


urlpatterns = [path("", dashboard, name="dashboard")]
