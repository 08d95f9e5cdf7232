"""Today: the clinic's appointments for the day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count, IntegerField, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThanOrEqual
from django.shortcuts import render
from django.template import engines
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language

from dermis.web.clinic import clock
from dermis.web.clinic.access import staff_required
from dermis.web.clinic.models import OPEN_STATUSES, Appointment, Role
from dermis.web.clinic.portal.checkins import OPEN_ALERTS
from dermis.web.clinic.prepared import PreparedCount, PreparedRows
from dermis.web.clinic.reminders.selectors import recent_failures, recent_failures_read
from dermis.web.clinic.scheduling import versions
from dermis.web.clinic.together import read_together
from dermis.web.jinja import per_render

ROWS = 30  # a busy clinic's day is in the diary; the dashboard shows what needs attention
# What a row shows (clinic/dashboard/_rows.html): a row's three records read with these alone
# take 12 µs less to make than with all their columns (the patient's address, preferences, …).
SHOWN = (
    "start",
    "end",
    "kind",
    "status",
    "patient__given_name",
    "patient__family_name",
    "practitioner__display_name",
)


def _today(clinic: int, start: datetime, end: datetime, now: datetime):
    """The day's appointments to list, each with the day's count as `day_total`."""
    today = Appointment.objects.filter(clinic_id=clinic, start__gte=start, start__lt=end)
    # One query whatever the day: the day's count rides along (a subquery the database counts
    # once), and when it is over ROWS only what is still to come or still open is listed.
    counted = Subquery(
        today.order_by().values("clinic").annotate(n=Count("pk")).values("n"),
        output_field=IntegerField(),
    )
    shown = Q(LessThanOrEqual(counted, ROWS)) | Q(end__gte=now) | Q(status__in=OPEN_STATUSES)
    return (
        today.filter(shown)
        .annotate(day_total=Coalesce(counted, 0))
        .select_related("patient", "practitioner")
        .only(*SHOWN)
        .order_by("start", "pk")
    )


# Every signed-in landing: composed once per process (clinic/prepared.py).
TODAY = PreparedRows(Appointment, _today, clinic=int, start=datetime, end=datetime, now=datetime)
DAY_COUNT = PreparedCount(  # the day's appointments, when none of them is left to show
    Appointment,
    lambda clinic, start, end: Appointment.objects.filter(
        clinic_id=clinic, start__gte=start, start__lt=end
    ),
    clinic=int,
    start=datetime,
    end=datetime,
)


@staff_required()
def dashboard(request):
    day = timezone.localdate()
    tz = timezone.get_current_timezone()
    now = timezone.now()
    staff = request.staff
    clinic = staff.clinic
    desk, at = staff.role in (Role.ADMIN, Role.FRONT_DESK), clock.now()
    # The schedule's version, the failed reminders' count and the patients' alerts in one round
    # trip; the day's appointments are kept by the version (scheduling/versions.py) while nothing
    # they show changes: the same for every member of staff of the clinic.
    with read_together(
        versions.VERSION.ahead(clinic=clinic.pk),
        recent_failures_read(clinic, at) if desk else None,
        OPEN_ALERTS.ahead(None, clinic=clinic.pk) if staff.is_clinical else None,
    ):
        version = versions.schedule_version(clinic.pk)
        today = versions.kept_value(
            "dashboard",
            clinic.pk,
            (day.isoformat(), str(tz), get_language()),
            now,
            lambda: _draw(clinic.pk, day, tz, now),
            version=version,
        )
        context = {"day": day, "today": today}
        if desk:
            context["failed_reminders"] = recent_failures(clinic, at)
        return render(request, "clinic/dashboard/today.html", context)


def _draw(clinic: int, day, tz, now: datetime) -> tuple[dict, datetime | None]:
    """The day's appointments as the dashboard lists them at `now` (`rows`: their table rows,
    `shown`: their ids, `total`: the day's count), and the first moment that stops being right:
    the next listed appointment to end (it is then due an outcome, or no longer listed on a busy
    day, which lets the next one in)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = start + timedelta(days=1)
    appointments = TODAY.rows(ROWS, clinic=clinic, start=start, end=end, now=now)
    if appointments:
        total = appointments[0].day_total
    else:
        total = DAY_COUNT.count(clinic=clinic, start=start, end=end)
    template = engines["jinja2"].env.get_template("clinic/dashboard/_rows.html")
    rows = template.render({"appointments": appointments, "now": now, **per_render()})
    ends = [a.end for a in appointments if a.end >= now]
    until = min(ends) + timedelta(microseconds=1) if ends else None
    return {"rows": rows, "shown": [a.pk for a in appointments], "total": total}, until


urlpatterns = [path("", dashboard, name="dashboard")]
