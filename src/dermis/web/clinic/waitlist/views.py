"""Waitlist pages: staff see and manage it; a patient accepts an offer, or confirms an
appointment, through a signed link without logging in."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from dermis.web.clinic.access import ANY_STAFF, actor_of, clinic_patient, staff_required
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence, show
from dermis.web.clinic.models import AppointmentReply, WaitlistEntry, WaitlistOffer
from dermis.web.clinic.waitlist import links, selectors, services
from dermis.web.clinic.waitlist.forms import WaitlistForm


@require_safe
@staff_required(ANY_STAFF)
def waitlist(request):
    entries = selectors.listed(request.staff.clinic)
    return render(request, "clinic/waitlist/list.html", {"entries": entries})


@staff_required(ANY_STAFF)
def waitlist_add(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    form = WaitlistForm(request.POST or None, clinic=request.staff.clinic, patient=patient)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.add_entry(actor_of(request), patient, **form.cleaned_data)
        except ServiceError as err:
            show(form, err)
            status = err.status
        else:
            messages.success(request, f"{patient.full_name} is on the waitlist.")
            return redirect("waitlist")
    elif request.method == "POST":
        status = 422
    context = {"form": form, "patient": patient}
    return render(request, "clinic/waitlist/form.html", context, status=status)


@require_POST
@staff_required(ANY_STAFF)
def waitlist_remove(request, entry_id: int):
    entry = get_object_or_404(WaitlistEntry, pk=entry_id, clinic=request.staff.clinic)
    try:
        services.remove_entry(actor_of(request), entry)
    except ServiceError as err:
        messages.error(request, sentence(err.message))
    else:
        messages.success(request, "Removed from the waitlist.")
    return redirect("waitlist")


def _link_failed(request, message: str, status: int):
    return render(request, "clinic/waitlist/link_problem.html", {"message": message}, status=status)


BAD_LINK = "This link is not valid or has expired. Please contact the clinic."
NEEDS_THE_CLINIC = (
    "We could not book this appointment from the link: the clinic needs to check something "
    "with you first. Please contact them."
)


def offer(request, token: str):
    """A waitlist offer from its signed link: see it, and accept it (the first to accept wins)."""
    if request.method not in ("GET", "HEAD", "POST"):
        return _link_failed(request, BAD_LINK, 405)
    try:
        found = links.offer_from(token)
    except links.BadLink:
        return _link_failed(request, BAD_LINK, 404)
    error, appointment = "", None
    status = 200
    if request.method == "POST":
        try:
            appointment = services.accept_offer(found)
        except ServiceError as err:
            # A booking rule or the safety gate said no: its wording is for staff, not patients.
            error = sentence(err.message) if err.status == 409 else NEEDS_THE_CLINIC
            status = err.status
        found.refresh_from_db()
    context = {
        "offer": found,
        "error": error,
        "appointment": appointment or found.appointment,
        "open": found.status == WaitlistOffer.Status.OPEN and found.expires_at > timezone.now(),
    }
    return render(request, "clinic/waitlist/offer.html", context, status=status)


def reply(request, token: str):
    """Confirm an appointment (or ask to cancel it) from the signed link in its reminder."""
    if request.method not in ("GET", "HEAD", "POST"):
        return _link_failed(request, BAD_LINK, 405)
    try:
        appointment = links.appointment_from(token)
    except links.BadLink:
        return _link_failed(request, BAD_LINK, 404)
    answered, error, status = "", "", 200
    if request.method == "POST":
        answer = request.POST.get("answer", "")
        try:
            services.reply_to_appointment(appointment, answer)
        except ServiceError as err:
            error, status = sentence(err.message), err.status
        else:
            answered = answer
    context = {
        "appointment": appointment,
        "answered": answered,
        "error": error,
        "Answer": AppointmentReply.Answer,
    }
    return render(request, "clinic/waitlist/reply.html", context, status=status)


urlpatterns = [
    path("waitlist/", waitlist, name="waitlist"),
    path("patients/<int:patient_id>/waitlist/", waitlist_add, name="waitlist-add"),
    path("waitlist/<int:entry_id>/remove/", waitlist_remove, name="waitlist-remove"),
    path("offer/<str:token>/", offer, name="waitlist-offer"),
    path("reply/<str:token>/", reply, name="appointment-reply"),
]
