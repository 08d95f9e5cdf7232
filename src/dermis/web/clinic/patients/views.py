"""Patients: search, register, edit demographics, and the record page (the journey at a glance)."""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.template import engines
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

import dermis
from dermis.web.clinic import clock
from dermis.web.clinic.access import (
    ANY_STAFF,
    actor_of,
    audit,
    clinic_patient,
    staff_context,
    staff_required,
)
from dermis.web.clinic.charting import record_panels as charting_panels
from dermis.web.clinic.core_inputs import (
    ACTIVE_PLAN,
    active_plan,
    history_reads,
    knowledge,
    read_once,
    remember_latest_consultation,
)
from dermis.web.clinic.documents.selectors import aftercare_changes_after, aftercare_in_progress
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import show
from dermis.web.clinic.models import Appointment, Consultation, Patient, TreatmentPlan
from dermis.web.clinic.paging import get_page, wanted_page
from dermis.web.clinic.patients import record_version, selectors, services
from dermis.web.clinic.patients.filters import PatientFilter
from dermis.web.clinic.patients.forms import (
    MergePatientForm,
    PatientForm,
    PatientSearchForm,
    RegisterPatientForm,
)
from dermis.web.clinic.portal import record_panels as portal_panels
from dermis.web.clinic.prepared import PreparedRows
from dermis.web.clinic.presentation import References, present
from dermis.web.clinic.process_memo import ProcessMemo
from dermis.web.clinic.scheduling import series
from dermis.web.clinic.together import Read, read_together, row_of, rows_digest
from dermis.web.jinja import per_render

PAGE_SIZE = 25


@staff_required(ANY_STAFF)
def patient_list(request):
    form = PatientSearchForm(request.GET or None)
    search = form.filter() if form.is_bound else PatientFilter()
    patients = selectors.search(actor_of(request), search) if search else Patient.objects.none()
    # who listed or searched, never for what
    audit(request, "view", summary="patient list or search", object_type="PatientList")
    total = (lambda: selectors.count(actor_of(request), search, patients)) if search else int
    number = request.GET.get("page")
    offset = (max(wanted_page(number), 1) - 1) * PAGE_SIZE
    reads = selectors.page_reads(actor_of(request), search, offset, PAGE_SIZE) if search else []
    with read_together(*reads):  # the page's rows and the clinic's tally, in one round trip
        page = get_page(patients, number, PAGE_SIZE, total, counted=bool(reads))
    query = form.cleaned_data.get("q", "") if form.is_bound and form.is_valid() else ""
    key = _list_key(request, form, page)
    body = LISTS.get(key)
    if body is None:
        context = {"form": form, "page": page, "query": query}
        body = render_to_string("clinic/patients/_list_body.html", context)
        LISTS.put(key, body)
    # The frame, drawn for each request, around the content.
    return render(request, "clinic/patients/list.html", {"body": mark_safe(body)})


# The list's content as each worker last drew it, by what it shows (`_list_key`): a page of
# twenty-five rows costs more to draw (1–2 ms) than its rows cost to read.
LISTS = ProcessMemo(size=128)


def _list_key(request, form: PatientSearchForm, page) -> str:
    """What the list's content is drawn from, as one digest: the patients on the page (every
    column of each row, so that nothing the rows show can change unseen), how many matched and
    which page this is, what was asked (and what the form said of it), and the zone, language,
    address prefix and release it is written in. The content is the same for every role."""
    errors = form.errors.get_json_data() if form.is_bound else None
    return rows_digest(
        list(page.object_list),
        dermis.__version__,
        (page.paginator.count, page.number),
        sorted(request.GET.lists()),
        errors,
        (timezone.get_current_timezone_name(), get_language(), get_script_prefix(), get_urlconf()),
    )


@staff_required(ANY_STAFF)
def patient_create(request):
    form = RegisterPatientForm(request.POST or None)
    context: dict = {"form": form}
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.register_patient(actor_of(request), **form.cleaned_data)
        except services.PossibleDuplicate as err:
            show(form, err)
            context["candidates"] = selectors.by_ids(actor_of(request), err.candidates)
            status = err.status
        except ServiceError as err:
            show(form, err)
        else:
            messages.success(request, "Patient registered.")
            return redirect("patient-detail", patient_id=patient.pk)
    return render(request, "clinic/patients/form.html", context, status=status)


@staff_required(ANY_STAFF)
def patient_edit(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        patient.refresh_from_db()  # the form wrote its values onto the instance
        try:
            services.update_patient(actor_of(request), patient, **changes)
        except ServiceError as err:
            show(form, err)
        else:
            messages.success(request, "Details saved.")
            return redirect("patient-detail", patient_id=patient.pk)
    if request.method != "POST":
        audit(request, "view", patient, summary="demographics form")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "patient": patient}
    return render(request, "clinic/patients/form.html", context, status=status)


# The record page's lists, composed once per process (clinic/prepared.py): the patient's
# appointments to come and past, consultations and plan versions.
def _appointments(to_come: bool) -> PreparedRows:
    def build(patient: int, now: datetime):
        rows = Appointment.objects.filter(patient_id=patient).select_related(
            "practitioner", "location"
        )
        if to_come:
            return rows.filter(end__gte=now).order_by("start")
        return rows.filter(end__lt=now).order_by("-start")

    return PreparedRows(Appointment, build, patient=int, now=datetime)


UPCOMING, PAST = _appointments(to_come=True), _appointments(to_come=False)
CONSULTATIONS = PreparedRows(
    Consultation,
    lambda patient: (
        Consultation.objects.filter(patient_id=patient)
        .select_related("practitioner")
        .order_by("-created_at", "-pk")
    ),
    patient=int,
)
PLAN_VERSIONS = PreparedRows(
    TreatmentPlan,
    lambda patient: (
        TreatmentPlan.objects.filter(patient_id=patient)
        .select_related("created_by__staff")
        .order_by("-version")
    ),
    patient=int,
)


def _clinical_context(patient: Patient) -> dict:
    """Consultations with their screening, the active plan and every version, and the panels
    (portal answers, sessions, aftercare, photos, grades, check-ins, forecast): clinical only."""
    refs = References(knowledge())
    mine = {"patient": patient}
    records = CONSULTATIONS.rows(None, patient=patient.pk, known=mine)
    remember_latest_consultation(patient, records[0] if records else None)
    consultations = [
        {"record": c, "screening": present(c.screening, refs), "status": c.proposal["status"]}
        for c in records
    ]
    plan = active_plan(patient)
    return {
        "answers": portal_panels.portal_answers(patient),
        "consultations": consultations,
        "active_plan": plan,
        "active_content": present(plan.content, refs) if plan else None,
        "plan_versions": PLAN_VERSIONS.rows(None, patient=patient.pk, known=mine),
        "sessions_panel": charting_panels.sessions_panel(patient),
        "aftercare": aftercare_in_progress(patient),
        "photos_panel": charting_panels.photos_panel(patient),
        "grades_panel": charting_panels.grades_panel(patient),
        "reported": portal_panels.patient_reported(patient),
        "forecast_panel": charting_panels.forecast_panel(patient),
        "references": refs.listing(),  # last: every source the page cites is numbered by now
    }


# The record's body as each worker drew it: (the moment it stops being right, the HTML), by
# everything it was drawn from (`_record_key`). At most 128 (each some tens of KB).
RECORDS = ProcessMemo(size=128)
RECORD_BODY = "clinic/patients/_record.html"
UPCOMING_SHOWN, PAST_SHOWN = 20, 10


@staff_required(ANY_STAFF)
def patient_detail(request, patient_id: int):
    # The patient, and the numbers the database keeps of what their record shows, in one trip.
    patient, version = record_version.patient_of(request, patient_id)
    audit(request, "view", patient, summary="record page")
    now = clock.now()
    key = _record_key(request, patient, version)
    kept = RECORDS.get(key) if key else None
    if kept is not None and (kept[0] is None or now < kept[0]):
        body = kept[1]
    else:
        # The panels below each ask for the active plan, and each reads its own rows: the plan is
        # read once, and what they read goes to the database in one round trip.
        with read_once(patient), read_together(*_record_reads(patient, now, request.staff)):
            body, until = _record_body(request, patient, now)
        if key and until > now:
            RECORDS.put(key, (until, body))
    page = {"patient": patient, "body": mark_safe(body)}  # drawn from the page's own template
    return render(request, "clinic/patients/detail.html", page)


def _record_key(request, patient: Patient, version: tuple[int, int] | None) -> str | None:
    """What the record's body is drawn from, as one digest: the patient's record version and
    their clinic's reference version (`record_version`: every other row the body shows, each
    table of `_record_reads` watched by the database's triggers, as a test holds it to), the
    patient's and the clinic's rows, who looks (their role decides the panels), the time zone,
    language and address prefix it is written in, and the release (the knowledge base and the
    templates). None without a version (inside a transaction): then it is drawn every time."""
    if version is None:
        return None
    staff = request.staff
    parts = (
        dermis.__version__,
        version,
        row_of(patient),
        row_of(staff.clinic),
        (staff.role, staff.is_admin, staff.is_clinical),
        (timezone.get_current_timezone_name(), get_language(), get_script_prefix(), get_urlconf()),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _record_body(request, patient: Patient, now: datetime) -> tuple[str, datetime]:
    """The record's body, and the first moment it says something else with nothing written: the
    next midnight (the patient's age, each session's day of aftercare, the forecast's today), an
    appointment to come ending (it moves to the past), or sooner an aftercare panel's change
    (`aftercare_changes_after`)."""
    context = _record_context(request, patient, now) | staff_context(request) | per_render()
    body = engines["jinja2"].env.get_template(RECORD_BODY).render(context)
    today = timezone.localdate(now)
    midnight = datetime.combine(
        today + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )
    until = min([midnight, *_appointments_move(context["upcoming"])])
    if request.staff.is_clinical:
        changes = aftercare_changes_after(patient, now)
        if changes is not None:
            until = min(until, changes)
    return body, until


def _appointments_move(upcoming: list) -> list[datetime]:
    """The moments the lists of appointments to come and past change with nothing written: the
    first end among those shown to come; and where the list is full, the start of its last (one
    not shown ends after it starts, which is after the last shown starts)."""
    moments = [min(a.end for a in upcoming)] if upcoming else []
    if len(upcoming) >= UPCOMING_SHOWN:
        moments.append(upcoming[-1].start)
    return moments


def _record_reads(patient: Patient, now: datetime, staff) -> list[Read | None]:
    """Every read the record page makes of the patient after the patient: the page's lists and,
    for clinical staff, the panels' (each module names its own), sent together. Its body is kept
    by the record version (`_record_key`): a test holds every table these read to the tables the
    database watches for it."""
    pk = patient.pk
    reads = [
        UPCOMING.ahead(UPCOMING_SHOWN, patient=pk, now=now),
        PAST.ahead(PAST_SHOWN, patient=pk, now=now),
        ACTIVE_PLAN.ahead(1, patient=pk),
    ]
    if staff.is_clinical:
        reads += [
            CONSULTATIONS.ahead(None, patient=pk),
            PLAN_VERSIONS.ahead(None, patient=pk),
            *history_reads(patient),
            *portal_panels.record_reads(patient),
            *charting_panels.record_reads(patient),
        ]
    return reads


def _record_context(request, patient: Patient, now: datetime) -> dict:
    mine = {"patient": patient}
    context = {
        "patient": patient,
        "bookable_plan": None,
        "age": patient.age_on(timezone.localdate(now)),
        "upcoming": UPCOMING.rows(UPCOMING_SHOWN, patient=patient.pk, now=now, known=mine),
        "past": PAST.rows(PAST_SHOWN, patient=patient.pk, now=now, known=mine),
    }
    plan = active_plan(patient)
    if plan is not None and not series.not_bookable(plan):
        # Front desk books series too: the link says only that there is a series to book.
        context["bookable_plan"] = plan
    if request.staff.is_clinical:
        context.update(_clinical_context(patient))
    return context


@staff_required(ANY_STAFF)
def patient_merge(request, patient_id: int):
    keep = clinic_patient(request, patient_id)  # another clinic's id: 404 whatever the role
    if not request.staff.is_admin:
        raise PermissionDenied("Only the clinic's admin merges records.")
    form = MergePatientForm(
        request.POST or None, initial={"merge_away_id": request.GET.get("from")}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        actor = actor_of(request)
        try:
            away = actor.patient(form.cleaned_data["merge_away_id"], field="merge_away_id")
            result = services.merge_patients(actor, keep, away)
        except ServiceError as err:
            show(form, err)
            status = err.status if err.status in (404, 409) else 400
        else:
            messages.success(request, f"Patient {result['merged_id']} merged into this record.")
            return redirect("patient-detail", patient_id=keep.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request, "clinic/patients/merge.html", {"form": form, "patient": keep}, status=status
    )


urlpatterns = [
    path("patients/", patient_list, name="patient-list"),
    path("patients/new/", patient_create, name="patient-create"),
    path("patients/<int:patient_id>/", patient_detail, name="patient-detail"),
    path("patients/<int:patient_id>/edit/", patient_edit, name="patient-edit"),
    path("patients/<int:patient_id>/merge/", patient_merge, name="patient-merge"),
]
