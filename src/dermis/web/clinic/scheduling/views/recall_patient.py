"""One patient on the recall list: phone and email, what is due, the contact log, and "propose":
free slots to offer, one of which the staff member books once the patient has chosen.

Any staff member (the front desk make the calls); nothing clinical is shown here.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from dermis.core.errors import InputError
from dermis.web.clinic import form_errors
from dermis.web.clinic.access import (
    ANY_STAFF,
    PATIENT_IN_CLINIC,
    actor_of,
    audit,
    clinic_patient,
    staff_required,
)
from dermis.web.clinic.clock import now
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import RecallContact, RecallEntry
from dermis.web.clinic.patients.forms import ErrorSummaryMixin
from dermis.web.clinic.prepared import PreparedRows
from dermis.web.clinic.scheduling import recall_desk, versions
from dermis.web.clinic.together import read_together

WHAT = [("maintenance", "Maintenance"), ("follow_up", "Follow-up")]
BODY = "clinic/scheduling/_recall_patient_body.html"


class ContactForm(ErrorSummaryMixin, forms.Form):
    outcome = forms.ChoiceField(
        label="What happened", choices=RecallContact.Outcome.choices, widget=forms.RadioSelect
    )
    snooze_until = forms.DateField(
        label="Snooze until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Only for a snooze: the patient leaves the list until this day.",
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=recall_desk.NOTE_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class BookForm(ErrorSummaryMixin, forms.Form):
    """One proposed slot, as its button posts it."""

    what = forms.ChoiceField(choices=WHAT, widget=forms.HiddenInput)
    appointment = forms.IntegerField(required=False, widget=forms.HiddenInput)
    start = forms.DateTimeField(
        label="Slot", input_formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M"]
    )
    room = forms.IntegerField(required=False, widget=forms.HiddenInput)
    equipment = forms.IntegerField(required=False, widget=forms.HiddenInput)


# The patient's rows on the worklist, composed once per process (clinic/prepared.py).
DUE = PreparedRows(
    RecallEntry,
    lambda patient: RecallEntry.objects.filter(patient_id=patient).order_by("section", "due"),
    patient=int,
)


def _due(patient) -> list[RecallEntry]:
    return DUE.rows(None, patient=patient.pk, known={"patient": patient})


def _context(request, patient, *, contact_form=None, book_form=None) -> dict:
    """What the page's body shows (`_recall_patient_body.html`)."""
    what = request.GET.get("propose") or (book_form.data.get("what") if book_form else None)
    appointment = request.GET.get("appointment") or (
        book_form.data.get("appointment") if book_form else None
    )
    offer, found, why_not = None, [], ""
    if what:
        try:
            offer, found = recall_desk.propose(
                actor_of(request), patient, what, int(appointment) if appointment else None
            )
        except (InputError, ValueError) as err:
            why_not = form_errors.sentence(getattr(err, "message", "") or "no such appointment")
    return {
        "patient": patient,
        "due": _due(patient),
        "contacts": recall_desk.contacts(patient),
        "contact_form": contact_form or ContactForm(),
        "book_form": book_form,
        "offer": offer,
        "slots": [
            {
                "start": timezone.localtime(s.start),
                "value": timezone.localtime(s.start).isoformat(),
                "room": getattr(s.room, "pk", None),
                "equipment": getattr(s.device, "pk", None),
            }
            for s in found
        ],
        "why_not": why_not,
        "errors": [
            *(contact_form.error_summary() if contact_form else []),
            *(book_form.error_summary() if book_form else []),
        ],
        "what": what,
        "appointment": appointment or "",
    }


def _body(context: dict, csrf_token: str) -> str:
    return render_to_string(BODY, {**context, "csrf_token": csrf_token})


def _page(request, patient, body: str, status: int = 200):
    page = {"patient": patient, "body": mark_safe(body)}  # drawn from the page's own template
    return render(request, "clinic/scheduling/recall_patient.html", page, status=status)


def _drawn(request, patient, *, contact_form=None, book_form=None, status=200):
    """The page drawn for this request: a form with its errors, or slots proposed."""
    context = _context(request, patient, contact_form=contact_form, book_form=book_form)
    return _page(request, patient, _body(context, get_token(request)), status)


def kept_body(request, patient, version: int) -> str:
    """The page's body as it opens, with a mark where the CSRF token goes: kept by the clinic's
    recall version, which the database moves on whenever the patient's name, phone or email,
    their rows on the worklist or their contacts change (migration 0031), and by the time zone,
    language and address prefix it is written in. Nothing else it shows changes with time."""

    def draw() -> tuple[str, None]:
        # The patient's rows on the worklist and their contacts, in one round trip.
        reads = (DUE.ahead(None, patient=patient.pk), recall_desk.contacts_read(patient))
        with read_together(*reads):
            return _body(_context(request, patient), versions.CSRF_MARK), None

    zone = timezone.get_current_timezone_name()
    parts = (patient.pk, zone, get_language(), get_script_prefix())
    return versions.kept_recall_value(
        "recall-patient", patient.clinic_id, parts, now(), draw, version=version
    )


@staff_required(ANY_STAFF)
def recall_patient(request, patient_id: int):
    clinic = request.staff.clinic_id
    # The clinic's recall version, then the patient, in one round trip: the version is read
    # before any row the page shows (the patient's name, phone and email among them).
    reads = (
        versions.RECALL_VERSION.ahead(clinic=clinic),
        PATIENT_IN_CLINIC.ahead(1, patient=patient_id, clinic=clinic),
    )
    with read_together(*reads):
        version = versions.recall_version(clinic)
        patient = clinic_patient(request, patient_id)
    audit(request, "view", patient, summary="recall contact log")
    if request.GET.get("propose"):
        return _drawn(request, patient)
    body = kept_body(request, patient, version).replace(versions.CSRF_MARK, get_token(request))
    return _page(request, patient, body)


@staff_required(ANY_STAFF)
@require_POST
def recall_contact(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    form = ContactForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            recall_desk.log_contact(
                actor_of(request),
                patient,
                outcome=data["outcome"],
                snooze_until=data["snooze_until"],
                note=data["note"],
            )
        except ServiceError as err:
            form_errors.show(form, err)
        else:
            label = RecallContact.Outcome(data["outcome"]).label
            messages.success(request, f"Logged for {patient.full_name}: {label.lower()}.")
            return redirect("recall-patient", patient_id=patient.pk)
    return _drawn(request, patient, contact_form=form, status=400)


@staff_required(ANY_STAFF)
@require_POST
def recall_book(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    form = BookForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = recall_desk.book(
                actor_of(request),
                patient,
                start=data["start"],
                what=data["what"],
                appointment=data["appointment"],
                room=data["room"],
                equipment=data["equipment"],
            )
        except ServiceError as err:
            form_errors.show(form, err, aliases={"slot": "start"})
        else:
            messages.success(
                request,
                f"{made.get_kind_display()} booked for {patient.full_name} with "
                f"{made.practitioner.display_name} on "
                f"{timezone.localtime(made.start):%a %d %b %Y %H:%M}.",
            )
            return redirect("recall-worklist")
    return _drawn(request, patient, book_form=form, status=400)


urlpatterns = [
    path("recall/<int:patient_id>/", recall_patient, name="recall-patient"),
    path("recall/<int:patient_id>/contacts/", recall_contact, name="recall-contact"),
    path("recall/<int:patient_id>/book/", recall_book, name="recall-book"),
]
