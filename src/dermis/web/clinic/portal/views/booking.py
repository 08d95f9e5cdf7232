"""Booking a first consultation from the public directory, and what the answers mean."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from dermis.core.errors import InputError
from dermis.core.screening import Screening
from dermis.web.clinic import clock
from dermis.web.clinic.directory.selectors import listed
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import show
from dermis.web.clinic.portal import plain, services, slots
from dermis.web.clinic.portal.access import patient_required, public_actor, sign_in
from dermis.web.clinic.portal.forms import DetailsForm, IntakeForm, SlotForm
from dermis.web.clinic.portal.selectors import portal_enabled


def _label(offer: slots.Offer) -> str:
    local = timezone.localtime(offer.start)
    where = f" at {offer.location.name}" if offer.location else ""
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}{where}"


def _show(err: InputError, details, intake, slot) -> None:
    last = err.field.rsplit(".", 1)[-1]
    for form in (details, intake):
        if last in form.fields:
            show(form, err)
            return
    if last in ("start", "end", "slot", "practitioner", "location"):
        slot.add_error("slot", err.message[:1].upper() + err.message[1:])
        return
    show(details, err)


def book(request, pk: int):
    practitioner = listed().filter(pk=pk).first()
    if practitioner is None or not portal_enabled(practitioner.clinic):
        raise Http404("not bookable online")
    offers = slots.offers(practitioner, clock.now(), services.CONSULTATION_MINUTES)
    data = request.POST if request.method == "POST" else None
    details = DetailsForm(data)
    intake = IntakeForm(data)
    slot = SlotForm(data, choices=[(o.value, _label(o)) for o in offers])
    if data is not None:
        valid = [f.is_valid() for f in (details, intake, slot)]
        if all(valid):
            chosen = slots.parse(slot.cleaned_data["slot"], practitioner)
            try:
                answers = intake.intake()
                if chosen is None:
                    raise ServiceError("slot", "choose one of the times shown")
                d = details.cleaned_data
                made = services.book_first_consultation(
                    public_actor(request, practitioner.clinic),
                    practitioner=practitioner,
                    location=chosen[0],
                    start=chosen[1],
                    details={k: d[k] for k in ("given_name", "family_name", "date_of_birth")}
                    | {"email": d["email"], "phone": d["phone"]},
                    intake=answers,
                    modality=d.get("interest") or "",
                )
            except InputError as err:
                _show(err, details, intake, slot)
            else:
                sign_in(request, made.patient)
                return redirect("portal-booked")
    context = {
        "practitioner": practitioner,
        "details": details,
        "intake": intake,
        "slot": slot,
        "has_offers": bool(offers),
        "forms": (details, slot, intake),
    }
    return render(
        request, "clinic/portal/book.html", context, status=422 if data is not None else 200
    )


def outcome_of(patient) -> plain.Outcome | None:
    latest = patient.portal_intakes.first()
    if latest is None:
        return None
    return plain.outcome(Screening.from_dict(latest.screening), latest.modality)


@patient_required
def booked(request):
    from dermis.web.clinic.portal.home import upcoming

    patient = request.patient
    context = {
        "patient": patient,
        "appointment": upcoming(patient).first(),
        "outcome": outcome_of(patient),
    }
    return render(request, "clinic/portal/booked.html", context)


urlpatterns = [
    path("my/book/<int:pk>/", book, name="portal-book"),
    path("my/booked/", booked, name="portal-booked"),
]
