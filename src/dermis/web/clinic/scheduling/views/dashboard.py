"""Today: the clinic's appointments for the day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from dermis.web.clinic.access import staff_required
from dermis.web.clinic.models import Appointment


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
    return render(
        request,
        "clinic/dashboard/today.html",
        {"day": day, "appointments": appointments, "now": timezone.now()},
    )


urlpatterns = [path("", dashboard, name="dashboard")]
