"""The patient's plan in plain words; booking the rest of their series within the interval rules
and the safety gate; cancelling outside the clinic's notice period; their calendar feed."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dermis.core.errors import InputError
from dermis.core.planning import Plan
from dermis.core.screening import Screening
from dermis.web.clinic import clock
from dermis.web.clinic.core_inputs import active_plan, knowledge, latest_consultation
from dermis.web.clinic.directory.selectors import places
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.models import OPEN_STATUSES
from dermis.web.clinic.portal import plain
from dermis.web.clinic.portal.access import patient_actor, patient_required
from dermis.web.clinic.scheduling import lifecycle, series, setup
from dermis.web.clinic.scheduling import services as scheduling

ALTERNATIVES = 2


def _courses(plan) -> list[dict]:
    kb = knowledge()
    out = []
    for course in Plan.from_dict(plan.content).courses:
        if not course.treatments:
            continue
        downtime = next((d.value for d in course.decisions if d.what == "downtime_days"), None)
        out.append(
            {
                "treatment": kb.modalities[course.modality].name,
                "areas": [kb.areas[a].name if a in kb.areas else a for a in course.areas],
                "sessions": course.sessions,
                "interval_weeks": round(course.interval_days / 7),
                "interval_days": course.interval_days,
                "downtime": downtime,
            }
        )
    return out


def _practitioner(plan):
    return plan.consultation.practitioner


def _prefs(plan) -> series.Preferences:
    who = _practitioner(plan)
    where = next(iter(places(who)), None) if who else None
    return series.Preferences(practitioner=who, location=where)


def _why_not(patient, modality: str) -> list[tuple[str, object]]:
    """The plain reasons (and dates) the patient's screening holds this treatment back."""
    consultation = latest_consultation(patient)
    if consultation is None:
        return []
    found = plain.outcome(Screening.from_dict(consultation.screening), modality)
    return list(found.ruled_out) if found else []


def _series_context(plan, now) -> dict:
    """What the series page offers: proposals, or why none can be booked online (plain)."""
    patient = plan.patient
    course = next((c for c in Plan.from_dict(plan.content).courses if c.treatments), None)
    if course is None or _practitioner(plan) is None:
        return {"closed": "call"}
    reasons = _why_not(patient, course.modality)
    try:
        s = series.setup(plan, _prefs(plan), now)
    except series.NotBookable:
        if reasons:
            return {"closed": "screened", "reasons": reasons}
        return {"closed": "done"}
    except InputError:
        return {"closed": "call"}
    today = timezone.localtime(now).date()
    first_day = s.request.earliest_start
    result = series.propose(s, ALTERNATIVES)
    proposals = [p for p in (result.proposal, *result.alternatives) if p is not None]
    return {
        "setup": s,
        "proposals": proposals,
        "reasons": reasons if first_day > today + timedelta(days=1) else [],
        "first_day": first_day,
        "remaining": s.request.sessions,
    }


@patient_required
def my_plan(request):
    patient = request.patient
    plan = active_plan(patient)
    now = clock.now()
    appointments = [
        {"row": a, "may_change": not lifecycle.inside_notice(a, now)}
        for a in patient.appointments.filter(start__gte=now, status__in=OPEN_STATUSES)
        .select_related("clinic", "practitioner", "location")
        .order_by("start")
    ]
    return render(
        request,
        "clinic/portal/plan.html",
        {
            "patient": patient,
            "plan": plan,
            "courses": _courses(plan) if plan else [],
            "appointments": appointments,
            "notice_hours": patient.clinic.cancel_notice_hours,
        },
    )


@patient_required
def book_series(request):
    patient = request.patient
    plan = active_plan(patient)
    if plan is None:
        raise Http404("no plan")
    now = clock.now()
    context = _series_context(plan, now)
    if request.method == "POST" and "setup" in context:
        choice = str(request.POST.get("proposal", ""))
        proposals = context["proposals"]
        if not choice.isdigit() or int(choice) >= len(proposals):
            context["error"] = "Choose one of the sets of dates."
        else:
            try:
                series.book(
                    patient_actor(request),
                    context["setup"],
                    list(proposals[int(choice)].slots),
                    now,
                )
            except series.SeriesChanged:
                context = _series_context(plan, now)
                context["error"] = "Those times have just gone. Please choose again."
            except ServiceError as err:
                context["error"] = sentence(err.message.split(" (source")[0])
            else:
                messages.success(request, "Your sessions are booked. We will email reminders.")
                return redirect("portal-plan")
    context.update(patient=patient, plan=plan)
    status = 422 if request.method == "POST" else 200
    return render(request, "clinic/portal/series.html", context, status=status)


@patient_required
@require_POST
def cancel(request, pk: int):
    patient = request.patient
    appointment = patient.appointments.filter(pk=pk).first()
    if appointment is None:
        raise Http404("no such appointment")
    if lifecycle.inside_notice(appointment, clock.now()):
        messages.error(request, lifecycle.call_the_clinic(patient.clinic))
        return redirect("portal-plan")
    try:
        scheduling.cancel_appointment(patient_actor(request), appointment, "by the patient")
    except ServiceError as err:
        messages.error(request, sentence(err.message))
    else:
        messages.success(request, "Your appointment is cancelled.")
    return redirect("portal-plan")


@patient_required
def calendar(request):
    url = None
    if request.method == "POST":
        _feed, token = setup.create_feed(patient_actor(request), patient=request.patient)
        url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": token}))
    return render(request, "clinic/portal/calendar.html", {"patient": request.patient, "url": url})


urlpatterns = [
    path("my/plan/", my_plan, name="portal-plan"),
    path("my/plan/book/", book_series, name="portal-series"),
    path("my/appointments/<int:pk>/cancel/", cancel, name="portal-cancel"),
    path("my/calendar/", calendar, name="portal-calendar"),
]
