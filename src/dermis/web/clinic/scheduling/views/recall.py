"""The recall worklist (clinical roles: it shows outcome forecasts) and its one-click bookings."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from dermis.core.errors import InputError
from dermis.web.clinic.access import CLINICAL, actor_of, audit, clinic_patient, staff_required
from dermis.web.clinic.models import Appointment
from dermis.web.clinic.scheduling import recall

SPARK_W, SPARK_H, SPARK_POINTS = 120, 32, 48


def sparkline(row: recall.MaintenanceDue) -> dict | None:
    """The forecast's median as a small polyline (the full chart is one link away)."""
    result = row.forecast
    f = result.forecast if result else None
    if f is None or len(f.days) < 2:
        return None
    step = max(1, len(f.days) // SPARK_POINTS)
    days, p50 = f.days[::step], f.p50[::step]
    top = max(float(p50.max()), f.noticeable_threshold, 1.0)
    span = float(days[-1] - days[0]) or 1.0

    def xy(day, value) -> str:
        x = (float(day - days[0]) / span) * SPARK_W
        y = SPARK_H - max(0.0, float(value)) / top * (SPARK_H - 2) - 1
        return f"{x:.1f},{y:.1f}"

    threshold_y = SPARK_H - f.noticeable_threshold / top * (SPARK_H - 2) - 1
    return {
        "points": " ".join(xy(d, v) for d, v in zip(days, p50, strict=True)),
        "threshold_y": f"{threshold_y:.1f}",
        "width": SPARK_W,
        "height": SPARK_H,
        "label": result.summary(),
    }


@staff_required(CLINICAL)
def recall_worklist(request):
    clinic = request.staff.clinic
    now = timezone.now()
    work = recall.worklist(clinic, timezone.localdate(), now)
    maintenance = [{"row": row, "spark": sparkline(row)} for row in work.maintenance]
    # The page shows forecasts (clinical content) of each listed patient: one audit entry each.
    shown = {row.patient.pk: row.patient for row in work.maintenance}
    shown.update({row.patient.pk: row.patient for row in work.incomplete})
    for patient in shown.values():
        audit(request, "view", patient, summary="recall worklist")
    context = {
        "maintenance": maintenance,
        "incomplete": work.incomplete,
        "follow_ups": work.follow_ups,
        "horizon": recall.HORIZON_DAYS,
        "today": timezone.localdate(),
    }
    return render(request, "clinic/scheduling/recall.html", context)


@staff_required(CLINICAL)
@require_POST
def recall_book(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    now, today = timezone.now(), timezone.localdate()
    what = request.POST.get("kind", "maintenance")
    try:
        if what == "follow_up":
            missed = get_object_or_404(
                Appointment,
                pk=request.POST.get("appointment") or 0,
                patient=patient,
                kind=Appointment.Kind.FOLLOW_UP,
            )
            made = recall.book_follow_up(actor_of(request), missed, today, now)
        else:
            made = recall.book_maintenance(actor_of(request), patient, today, now)
    except InputError as err:
        if getattr(err, "code", "") == "slot-taken":
            messages.error(
                request, f"Not booked for {patient.full_name}: that slot was just taken; try again."
            )
        else:
            messages.error(request, f"Not booked for {patient.full_name}: {err.message}.")
        return redirect("recall-worklist")
    messages.success(
        request,
        f"{made.get_kind_display()} booked for {patient.full_name} with "
        f"{made.practitioner.display_name} on {timezone.localtime(made.start):%a %d %b %Y %H:%M}.",
    )
    return redirect("recall-worklist")


urlpatterns = [
    path("recall/", recall_worklist, name="recall-worklist"),
    path("recall/<int:patient_id>/book/", recall_book, name="recall-book"),
]
