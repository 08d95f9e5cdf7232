"""Patients: search, register, edit demographics, and the record page (the journey at a glance)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from dermis.web.clinic.access import ANY_STAFF, actor_of, audit, clinic_patient, staff_required
from dermis.web.clinic.core_inputs import active_plan, knowledge
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import show
from dermis.web.clinic.models import Appointment, Patient, TreatmentPlan
from dermis.web.clinic.patients import selectors, services
from dermis.web.clinic.patients.filters import PatientFilter
from dermis.web.clinic.patients.forms import PatientForm, PatientSearchForm
from dermis.web.clinic.presentation import References, present
from dermis.web.clinic.scheduling import series

PAGE_SIZE = 25


@staff_required(ANY_STAFF)
def patient_list(request):
    form = PatientSearchForm(request.GET or None)
    search = form.filter() if form.is_bound else PatientFilter()
    patients = selectors.search(actor_of(request), search) if search else Patient.objects.none()
    # who listed or searched, never for what
    audit(request, "view", summary="patient list or search", object_type="PatientList")
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    query = form.cleaned_data.get("q", "") if form.is_bound and form.is_valid() else ""
    context = {"form": form, "page": page, "query": query}
    return render(request, "clinic/patients/list.html", context)


@staff_required(ANY_STAFF)
def patient_create(request):
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.register_patient(actor_of(request), **form.cleaned_data)
        except ServiceError as err:
            show(form, err)
        else:
            messages.success(request, "Patient registered.")
            return redirect("patient-detail", patient_id=patient.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "clinic/patients/form.html", {"form": form}, status=status)


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


def _clinical_context(patient: Patient) -> dict:
    """Consultations with their screening, the active plan and every version (clinical only)."""
    refs = References(knowledge())
    consultations = [
        {"record": c, "screening": present(c.screening, refs), "status": c.proposal["status"]}
        for c in patient.consultations.select_related("practitioner").order_by("-created_at", "-pk")
    ]
    plan = active_plan(patient)
    return {
        "consultations": consultations,
        "active_plan": plan,
        "active_content": present(plan.content, refs) if plan else None,
        "plan_versions": TreatmentPlan.objects.filter(patient=patient)
        .select_related("created_by")
        .order_by("-version"),
        "references": refs.listing(),
    }


@staff_required(ANY_STAFF)
def patient_detail(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    audit(request, "view", patient, summary="record page")
    now = timezone.now()
    appointments = Appointment.objects.filter(patient=patient).select_related(
        "practitioner", "location"
    )
    context = {
        "patient": patient,
        "age": patient.age_on(timezone.localdate()),
        "upcoming": appointments.filter(end__gte=now).order_by("start")[:20],
        "past": appointments.filter(end__lt=now).order_by("-start")[:10],
    }
    plan = active_plan(patient)
    if plan is not None and not series.not_bookable(plan):
        # Front desk books series too: the link says only that there is a series to book.
        context["bookable_plan"] = plan
    if request.staff.is_clinical:
        context.update(_clinical_context(patient))
    return render(request, "clinic/patients/detail.html", context)


urlpatterns = [
    path("patients/", patient_list, name="patient-list"),
    path("patients/new/", patient_create, name="patient-create"),
    path("patients/<int:patient_id>/", patient_detail, name="patient-detail"),
    path("patients/<int:patient_id>/edit/", patient_edit, name="patient-edit"),
]
