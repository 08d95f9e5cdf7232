"""Session charting: draft, finalise (sign and lock), addenda."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dermis.core.charting_checks import Level
from dermis.core.planning import Plan
from dermis.web.clinic import form_errors
from dermis.web.clinic.access import (
    CLINICAL,
    actor_of,
    audit,
    clinic_object,
    clinic_patient,
    staff_required,
)
from dermis.web.clinic.charting import services as charting
from dermis.web.clinic.charting.forms import (
    AddendumForm,
    FinaliseForm,
    RecheckForm,
    SessionForm,
    bodymap,
    initial_from_chart,
)
from dermis.web.clinic.core_inputs import active_plan, knowledge
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import Appointment, TreatmentSession


def _plan_modalities(plan) -> list[str]:
    return [c.modality for c in Plan.from_dict(plan.content).courses] if plan else []


def _options(form: SessionForm) -> dict:
    return {
        "precare_done": form.cleaned_data.get("precare_done", False),
        "override_reason": form.cleaned_data.get("override_reason", ""),
    }


def _show(form: SessionForm, err: ServiceError) -> None:
    """The service's refusal on the form: the chart's limits on their fields, else the one."""
    if isinstance(err, charting.ChartError):
        form.add_issues(err.issues)
    else:
        form_errors.show(form, err)
    # The gate asks for the chair-side check of an old screening: the page offers it.
    form.asks_recheck = err.field.endswith("recheck")


def _modality(request, default: str) -> str:
    wanted = request.POST.get("modality") or request.GET.get("modality") or default
    return wanted if wanted in knowledge().modalities else default


def _appointment(request, patient) -> Appointment | None:
    raw = request.POST.get("appointment") or request.GET.get("appointment") or ""
    if not raw.isdigit():
        return None
    return Appointment.objects.filter(pk=int(raw), patient=patient, session__isnull=True).first()


def _flash_warnings(request, issues) -> None:
    names = knowledge().areas
    for issue in issues:
        if issue.level is Level.WARNING:
            where = names[issue.area].name if issue.area in names else "Session"
            messages.warning(request, f"{where}: {issue.message}")


def _render_form(request, patient, form, *, session=None, plan=None, appointment=None, status=200):
    kb = knowledge()
    asks_recheck = getattr(form, "asks_recheck", False)
    return render(
        request,
        "clinic/sessions/form.html",
        {
            "patient": patient,
            "session": session,
            "form": form,
            "plan": plan,
            "appointment": appointment,
            "modality": form.modality,
            "modalities": [(key, m.name) for key, m in kb.modalities.items()],
            "bodymap": bodymap(kb, {r.id for r in form.area_rows if r.checked}),
            "recheck_form": RecheckForm() if asks_recheck else None,
            "recheck_next": request.get_full_path(),
        },
        status=status,
    )


@staff_required(CLINICAL)
def session_create(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    kb = knowledge()
    plan = active_plan(patient)
    planned = _plan_modalities(plan)
    modality = _modality(request, planned[0] if planned else next(iter(kb.modalities)))
    linked_plan = plan if modality in planned else None
    appointment = _appointment(request, patient)
    if request.method == "POST":
        form = SessionForm(request.POST, modality=modality, kb=kb)
        if form.is_valid():
            try:
                session, issues = charting.create_session(
                    actor_of(request),
                    patient,
                    form.to_chart(),
                    appointment=appointment,
                    plan=linked_plan,
                    **_options(form),
                )
            except ServiceError as err:
                _show(form, err)
            else:
                _flash_warnings(request, issues)
                messages.success(request, "Draft saved. Finalise it when the record is complete.")
                return redirect("session-detail", pk=session.pk)
        return _render_form(
            request, patient, form, plan=linked_plan, appointment=appointment, status=400
        )
    start = appointment.start if appointment else timezone.now()
    chart = charting.planned_chart(linked_plan, modality, start) if linked_plan else None
    if chart:
        initial = initial_from_chart(chart)
    else:
        initial = {
            "performed_at": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "device": kb.adjustments.default_device.get(modality),
        }
    initial.setdefault("duration_minutes", 60)
    initial.setdefault("endpoint", TreatmentSession.Endpoint.NONE)
    audit(request, "view", patient, summary="session charting form")
    form = SessionForm(initial=initial, modality=modality, kb=kb)
    return _render_form(request, patient, form, plan=linked_plan, appointment=appointment)


def _locked(request, session, what: str):
    audit(request, "denied", session, summary=f"{what} refused: session finalised")
    return render(request, "clinic/sessions/locked.html", {"session": session}, status=409)


@staff_required(CLINICAL)
def session_edit(request, pk: int):
    session = clinic_object(request, TreatmentSession, pk)
    if session.is_final:
        return _locked(request, session, "edit")
    kb = knowledge()
    modality = _modality(request, session.modality)
    if request.method == "POST":
        form = SessionForm(request.POST, modality=modality, kb=kb)
        if form.is_valid():
            try:
                session, issues = charting.update_session(
                    actor_of(request), session, form.to_chart(), **_options(form)
                )
            except charting.SessionLocked:
                return _locked(request, session, "edit")
            except ServiceError as err:
                _show(form, err)
            else:
                _flash_warnings(request, issues)
                messages.success(request, "Draft saved.")
                return redirect("session-detail", pk=session.pk)
        return _render_form(request, session.patient, form, session=session, status=400)
    audit(request, "view", session, summary="session edit form")
    form = SessionForm(
        initial=initial_from_chart(charting.stored_chart(session)), modality=modality, kb=kb
    )
    return _render_form(request, session.patient, form, session=session, plan=session.plan)


def _label(field: str, session) -> str:
    """A field named by the charting functions ('areas.cheeks.depth_mm') as the form labels it."""
    names = knowledge().areas
    parts = field.split(".")
    if parts[0] == "areas" and len(parts) == 3:
        area = names[parts[1]].name if parts[1] in names else parts[1]
        what = {"depth_mm": f"Depth for {area} (mm)", "tip": f"Tip for {area}"}
        return what.get(parts[2], f"{area}: {parts[2]}")
    needling = session.modality == "microneedling"
    return {
        "areas": "Treated areas",
        "cartridge": "Needle cartridge" if needling else "Tip or crystal",
        "lot_number": "Lot number",
        "device": "Device",
        "performed_at": "Date and time",
        "recheck": "Check at the chair",
        "precare_done": "Pre-care",
        "screening": "Screening",
        "modality": "Modality",
        "override_reason": "Override reason",
        "version": "Version",
    }.get(field, field)


def _detail(
    request,
    session,
    *,
    finalise_form=None,
    addendum_form=None,
    recheck_form=None,
    problems=(),
    problems_title="The session was not finalised",
    status=200,
):
    kb = knowledge()
    chart = charting.stored_chart(session)
    issues = charting.check_chart(chart, session.patient, session.plan)
    areas = [
        {
            "name": kb.areas[a.area].name if a.area in kb.areas else a.area,
            "row": a,
            "issues": [i for i in issues if i.area == a.area],
        }
        for a in session.areas.all()
    ]
    device = kb.devices.get(session.device)
    return render(
        request,
        "clinic/sessions/detail.html",
        {
            "patient": session.patient,
            "session": session,
            "areas": areas,
            "device_name": device.name if device else session.device,
            "session_issues": [i for i in issues if i.area is None],
            "has_errors": any(i.level is Level.ERROR for i in issues),
            "intact": charting.record_intact(session),
            "addenda": session.addenda.select_related("author").order_by("created_at", "pk"),
            "photos": [
                {"photo": p, "area": kb.areas[p.area].name if p.area in kb.areas else p.area}
                for p in session.photos.all()
            ],
            "finalise_form": finalise_form
            or FinaliseForm(initial={"version": charting.draft_version(session)}),
            "addendum_form": addendum_form or AddendumForm(),
            "recheck_form": recheck_form,
            "problems": problems,
            "problems_title": problems_title,
            "bibliography": kb.bibliography,
        },
        status=status,
    )


@staff_required(CLINICAL)
def session_detail(request, pk: int):
    session = clinic_object(request, TreatmentSession, pk)
    audit(request, "view", session)
    return _detail(request, session)


@staff_required(CLINICAL)
@require_POST
def session_finalise(request, pk: int):
    session = clinic_object(request, TreatmentSession, pk)
    if session.is_final:
        return _locked(request, session, "finalise")
    form = FinaliseForm(request.POST)
    if not form.is_valid():
        return _detail(request, session, finalise_form=form, status=400)
    try:
        session = charting.finalise_session(
            actor_of(request),
            session,
            precare_done=form.cleaned_data["precare_done"],
            version=form.cleaned_data["version"],
        )
    except charting.SessionLocked:
        return _locked(request, session, "finalise")
    except charting.ChartError as exc:
        problems = [
            (_label(charting.issue_field(i), session), i.message)
            for i in exc.issues
            if i.level is Level.ERROR
        ]
        return _detail(request, session, problems=problems, status=400)
    except ServiceError as exc:
        problems = [(_label(exc.field, session), exc.message)]
        if exc.field == "version":  # changed since it was read: show it as it is now
            session.refresh_from_db()
            return _detail(request, session, problems=problems, status=exc.status)
        # the gate asks for the chair-side check: offer its form on the page
        recheck = RecheckForm() if exc.field == "recheck" else None
        return _detail(request, session, problems=problems, recheck_form=recheck, status=400)
    messages.success(request, "Session finalised: the record is signed and locked.")
    return redirect("session-detail", pk=session.pk)


@staff_required(CLINICAL)
@require_POST
def session_addendum(request, pk: int):
    session = clinic_object(request, TreatmentSession, pk)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        return _detail(request, session, addendum_form=form, status=400)
    try:
        charting.add_addendum(actor_of(request), session, form.cleaned_data["text"])
    except ServiceError as exc:
        form.add_error("text", exc.message)
        problems = [("Addendum", exc.message)]  # a draft shows no addendum form to hold it
        return _detail(
            request,
            session,
            addendum_form=form,
            problems=problems,
            problems_title="The addendum was not added",
            status=400,
        )
    messages.success(request, "Addendum added.")
    return redirect("session-detail", pk=session.pk)


@staff_required(CLINICAL)
@require_POST
def session_recheck(request, pk: int):
    """The chair-side "anything changed since the screening?" check, asked by the gate."""
    session = clinic_object(request, TreatmentSession, pk)
    form = RecheckForm(request.POST)
    if _record_recheck(request, session.patient, form):
        return redirect("session-detail", pk=session.pk)
    return _detail(request, session, recheck_form=form, status=400)


def _record_recheck(request, patient, form: RecheckForm) -> bool:
    """Record the chair-side check from `form`; False (errors on the form) when refused."""
    if not form.is_valid():
        return False
    answers = form.answers
    try:
        row = charting.record_recheck(
            actor_of(request),
            patient,
            changed=any(answers.values()),
            answers=answers,
            note=form.cleaned_data["note"],
        )
    except ServiceError as err:
        form_errors.show(form, err)
        return False
    if row.changed:
        messages.warning(request, "Recorded: something changed, so a new consultation is needed.")
    else:
        messages.success(request, "Recorded: nothing changed since the screening.")
    return True


@staff_required(CLINICAL)
@require_POST
def patient_recheck(request, patient_id: int):
    """The chair-side check asked for while charting a new session: recorded, then back."""
    patient = clinic_patient(request, patient_id)
    form = RecheckForm(request.POST)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("session-create", kwargs={"patient_id": patient.pk})
    if not _record_recheck(request, patient, form):
        messages.error(
            request, "Not recorded: " + "; ".join(m for e in form.errors.values() for m in e)
        )
    return redirect(target)


urlpatterns = [
    path("patients/<int:patient_id>/sessions/new/", session_create, name="session-create"),
    path("sessions/<int:pk>/", session_detail, name="session-detail"),
    path("sessions/<int:pk>/edit/", session_edit, name="session-edit"),
    path("sessions/<int:pk>/finalise/", session_finalise, name="session-finalise"),
    path("sessions/<int:pk>/addenda/", session_addendum, name="session-addendum"),
    path("sessions/<int:pk>/recheck/", session_recheck, name="session-recheck"),
    path("patients/<int:patient_id>/recheck/", patient_recheck, name="patient-recheck"),
]
