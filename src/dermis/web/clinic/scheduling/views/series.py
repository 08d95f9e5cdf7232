"""Booking a plan's whole series in one step; moving one session (and the later ones with it);
cancelling an appointment. Every member of the patient's clinic may book: front desk books
appointments. The pages show times, never the plan's clinical content."""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.http import QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

import dermis
from dermis.core.errors import InputError
from dermis.web.clinic import clock
from dermis.web.clinic.access import ANY_STAFF, actor_of, audit, clinic_object, staff_required
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.models import OPEN_STATUSES, Appointment, TreatmentPlan
from dermis.web.clinic.patients import record_version
from dermis.web.clinic.process_memo import ProcessMemo
from dermis.web.clinic.scheduling import availability, reschedule, series, versions
from dermis.web.clinic.scheduling.forms import PreferencesForm, RescheduleForm
from dermis.web.clinic.together import read_together, row_of

FORM_FIELDS = {
    "practitioner": "practitioner",
    "earliest_start": "earliest",
    "preferred_weekdays": "weekdays",
    "preferred_times": "time_from",
    "course": "course",
}


def _course_names(plan: TreatmentPlan, clinical: bool) -> list[str]:
    kb = knowledge()
    names = []
    for i, c in enumerate(c for c in plan.content.get("courses", []) if c.get("treatments")):
        modality = kb.modalities[c["modality"]].name if c["modality"] in kb.modalities else ""
        names.append(f"Course {i + 1}" + (f": {modality}" if clinical and modality else ""))
    return names


def _as_data(initial: dict) -> QueryDict:
    """Initial values as submitted data, so a first visit proposes at once."""
    data = QueryDict(mutable=True)
    for key, value in initial.items():
        if value is None:
            continue
        if isinstance(value, list):
            data.setlist(key, [str(v) for v in value])
        elif hasattr(value, "pk"):
            data[key] = str(value.pk)
        elif hasattr(value, "strftime") and key.startswith("time"):
            data[key] = value.strftime("%H:%M")
        else:
            data[key] = str(value)
    return data


def _add_core_error(form, err: InputError) -> None:
    field = FORM_FIELDS.get(err.field.split("[")[0].split(".")[0])
    form.add_error(field, err.message if field else f"{err.field}: {err.message}")


def _proposals(result) -> list[dict]:
    if result is None or result.proposal is None:
        return []
    return [
        {"proposal": p, "best": i == 0}
        for i, p in enumerate((result.proposal, *result.alternatives))
    ]


@staff_required(ANY_STAFF)
def series_propose(request, plan_id: int):
    # The plan, and the numbers the database keeps of all the page is drawn from, in one trip.
    plan, version = record_version.plan_of(request, plan_id)
    patient = plan.patient
    clinical = request.staff.is_clinical
    context = {"plan": plan, "patient": patient, "clinical": clinical}
    reason = series.not_bookable(plan)
    if reason:
        audit(request, "view", plan, summary="series booking page: not bookable")
        context["not_bookable"] = reason
        return _page(request, context, 409)
    courses = _course_names(plan, clinical)
    data = request.POST if request.method == "POST" else request.GET
    submitted = "practitioner" in data
    if not submitted:
        # Only a first visit needs the saved preferences (two reads): a submitted form has its own.
        initial = PreferencesForm.initial_for(patient, request.staff)
        if request.GET.get("course", "").isdigit():  # from the recall worklist
            initial["course"] = int(request.GET["course"])
        data = _as_data(initial)
    status, result, setup = 200, None, None
    now = clock.now()
    key = _page_key(request, plan, data, version)
    kept = PAGES.get(key) if key else None
    if kept is not None and now < kept[0]:
        audit(request, "view", plan, summary="series booking page")
        return _page(request, context, status, kept[1])
    # The form's menus and what setup reads go to the database together (one round trip).
    reads = [*availability.menu_reads(patient.clinic), *_setup_reads(plan, data)]
    with read_together(*reads):
        form = PreferencesForm(data, patient=patient, courses=courses)
        if form.is_valid():
            try:
                setup = series.setup(plan, form.preferences(), now)
            except series.NotBookable as err:
                context["not_bookable"] = str(err)
            except InputError as err:
                _add_core_error(form, err)
    if setup is not None and request.method == "POST":
        booked = _book(request, setup, now)
        if booked is not None:
            return booked
        status = 409
    if setup is not None:
        try:
            result = series.propose(setup)
        except InputError as err:  # the form checks what it can; the core has the last word
            _add_core_error(form, err)
            status = 400
    elif form.errors and submitted:
        status = 400
    elif request.method == "POST":
        status = 409
    audit(request, "view", plan, summary="series booking page")
    context.update(
        form=form,
        setup=setup,
        result=result,
        proposals=_proposals(result),
        error_summary=form.error_summary(),
        course_count=len(courses),
        hidden=[(k, v) for k, values in form.data.lists() if k in form.fields for v in values],
    )
    keep = None
    if request.method == "GET" and status == 200 and result is not None and not form.errors:
        keep = series.kept_by(setup)
    if keep is None:
        return _page(request, context, status)
    # The page as it proposes, kept as its search is, and by all else it shows: what was asked
    # (the form's data), who asks (a practitioner sees the plan's modalities and pre-care) and
    # what setup found (the course, its sessions so far, its notes). The schedule's version
    # covers the patient's name, the staff and the rooms; a plan's version is a row of its own.
    data = tuple(sorted((k, tuple(v)) for k, v in form.data.lists()))
    parts = (*keep[0], plan.pk, plan.status, clinical, tuple(courses), data, setup.notes)
    parts += (setup.planned, setup.counted)
    body = versions.kept(
        "series-page",
        patient.clinic_id,
        parts,
        setup.request.not_before,
        lambda: (_body(context, versions.CSRF_MARK), keep[1]),
        version=setup.version,
    )
    if key:
        PAGES.put(key, (min(keep[1], _next_midnight(now)), body))
    return _page(request, context, status, body)


# The page's content as each worker last drew it, by everything it was drawn from (`_page_key`),
# with the moment it stops being right: 128 pages of a few kilobytes.
PAGES = ProcessMemo(size=128)


def _page_key(request, plan: TreatmentPlan, data: QueryDict, version: tuple | None) -> str:
    """What a proposal's page is drawn from, as one digest, for a visit (not a booking) that only
    reads: the numbers the database keeps of it (`record_version.plan_of`: the patient's record
    version, for the course's sessions, its bookings and the safety gate's consultations,
    overrides and rechecks; the clinic's reference version and its schedule version, for the
    staff, their hours, the rooms, the devices and every booking: each table the page reads
    watched by the database's triggers, as a test holds it to); the plan, the patient and the
    clinic; what was asked (the form's data) and who asks (a practitioner sees the plan's
    modalities and pre-care); the day (the first safe day, the form's "not in the past"); and
    the zone, language, address prefix and release it is written in. '' where it cannot be
    kept: a booking, or no numbers (inside a transaction)."""
    if request.method != "GET" or version is None:
        return ""
    patient, staff = plan.patient, request.staff
    parts = (
        dermis.__version__,
        version,
        [row_of(plan), row_of(patient), row_of(patient.clinic)],
        (staff.role, staff.is_admin, staff.is_clinical),
        sorted((k, tuple(v)) for k, v in data.lists()),
        clock.today(),
        (timezone.get_current_timezone_name(), get_language(), get_script_prefix(), get_urlconf()),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _next_midnight(now: datetime) -> datetime:
    today = timezone.localdate(now)
    return datetime.combine(
        today + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )


def _setup_reads(plan: TreatmentPlan, data: QueryDict) -> list:
    """What setup reads for the practitioner and location as submitted (none where either is
    not an id: the form then says what is wrong)."""
    who, where = data.get("practitioner", ""), data.get("location", "")
    if not who.isdigit() or not (where.isdigit() or where == ""):
        return []
    return series.reads(plan, int(who), int(where) if where else None)


def _body(context: dict, csrf_token: str) -> str:
    """The page's own content (its frame is drawn for each request)."""
    body = {**context, "csrf_token": csrf_token}
    return render_to_string("clinic/scheduling/_series_propose_body.html", body)


def _page(request, context: dict, status: int, body: str | None = None):
    token = get_token(request)
    body = _body(context, token) if body is None else body.replace(versions.CSRF_MARK, token)
    page = {**context, "body": mark_safe(body)}  # the page's own template
    return render(request, "clinic/scheduling/series_propose.html", page, status=status)


def _book(request, setup: series.Setup, now):
    """Book the posted proposal; None (with a message) when nothing could be booked."""
    post = request.POST
    try:
        chosen = series.parse_slots(
            setup, post.getlist("start"), post.getlist("room"), post.getlist("device")
        )
        made = series.book(
            actor_of(request), setup, chosen, now, remember=bool(post.get("remember"))
        )
    except InputError as err:
        if getattr(err, "code", "") != "slot-taken":
            messages.error(request, f"Nothing was booked: {err.field}: {err.message}.")
            return None
        why = err.message
        messages.error(
            request,
            f"Nothing was booked: a time in that series was taken meanwhile ({why}). "
            "Here are new proposals.",
        )
        return None
    except series.SeriesChanged as err:
        why = "; ".join(err.problems)
        messages.error(
            request,
            f"Nothing was booked: a time in that series was taken meanwhile ({why}). "
            "Here are new proposals.",
        )
        return None
    patient = setup.plan.patient
    messages.success(
        request,
        f"{len(made)} session{'s' if len(made) != 1 else ''} booked with "
        f"{setup.prefs.practitioner.display_name}, from "
        f"{timezone.localtime(made[0].start):%a %d %b %Y %H:%M}. Reminders are planned.",
    )
    return redirect("patient-detail", patient_id=patient.pk)


def _movable(appointment: Appointment) -> str:
    if appointment.status not in OPEN_STATUSES:
        return f"this appointment is {appointment.get_status_display().lower()}"
    if appointment.start <= timezone.now():
        return "this appointment has already started"
    return ""


@staff_required(ANY_STAFF)
def appointment_reschedule(request, pk: int):
    appointment = clinic_object(request, Appointment, pk)
    patient = appointment.patient
    context = {"appointment": appointment, "patient": patient}
    if reason := _movable(appointment):
        context["not_movable"] = reason
        return render(request, "clinic/scheduling/reschedule.html", context, status=409)
    now = timezone.now()
    action = request.POST.get("action", "preview") if request.method == "POST" else ""
    if not action and request.GET.get("day") and request.GET.get("time"):
        # From the diary (an appointment dropped on a time): preview that time at once.
        action, data = "preview", request.GET
    else:
        data = request.POST
    if action:
        form = RescheduleForm(data)
    else:
        form = RescheduleForm(initial=RescheduleForm.initial_for(appointment.start))
    status, preview = 200, None
    if action and form.is_valid():
        start = form.cleaned_data["start"]
        try:
            if action == "confirm":
                fingerprint = request.POST.get("fingerprint", "")
                done = reschedule.apply(actor_of(request), appointment, start, fingerprint, now)
                return _moved(request, done, request.GET.get("next", ""))
            preview = reschedule.preview(appointment, start, now)
        except InputError as err:
            if getattr(err, "code", "") == "slot-taken":
                messages.error(request, f"Nothing was moved: {err.message}.")
                preview = _safe_preview(appointment, start, now)
                status = 409
            else:
                field = "day" if err.field in ("time", "new_start", "start") else None
                form.add_error(field, sentence(err.message) if field else err.message)
        except series.SeriesChanged as err:
            why = "; ".join(err.problems)
            messages.error(request, f"Nothing was moved: {why}.")
            preview = _safe_preview(appointment, start, now)
            status = 409
    if form.errors:
        status = 400
    elif preview is not None and not preview.result.ok:
        status = 409
    audit(request, "view", appointment, summary="reschedule page")
    context.update(
        form=form,
        preview=preview,
        error_summary=form.error_summary(),
        suggestions=_suggestions(appointment, now) if preview is None else [],
    )
    return render(request, "clinic/scheduling/reschedule.html", context, status=status)


def _safe_preview(appointment, start, now):
    try:
        return reschedule.preview(appointment, start, now)
    except InputError:
        return None


def _suggestions(appointment: Appointment, now) -> list:
    try:
        return reschedule.suggestions(appointment, now)
    except InputError:
        return []


def _moved(request, done: reschedule.Preview, next_url: str = ""):
    moves = done.moves()
    first = moves[0]
    shifted = len(moves) - 1
    text = f"Moved to {timezone.localtime(first.start):%a %d %b %Y %H:%M}"
    if shifted:
        text += (
            f"; {shifted} later session{'s' if shifted != 1 else ''} shifted to keep the intervals"
        )
    messages.success(request, text + ". Reminders are re-timed.")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("patient-detail", patient_id=done.appointment.patient_id)


urlpatterns = [
    path("plans/<int:plan_id>/book/", series_propose, name="series-propose"),
    path(
        "appointments/<int:pk>/reschedule/",
        appointment_reschedule,
        name="appointment-reschedule",
    ),
]
