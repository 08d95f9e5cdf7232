"""Booking a first consultation from the public directory (a practitioner's page or a location's),
and what the answers mean."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from dermis.core.errors import InputError
from dermis.core.screening import Screening
from dermis.web.clinic import clock
from dermis.web.clinic.directory.selectors import listed, listed_at, public_location
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import show
from dermis.web.clinic.models import Location, StaffMember
from dermis.web.clinic.portal import plain, services, slots
from dermis.web.clinic.portal.access import patient_required, public_actor, sign_in
from dermis.web.clinic.portal.forms import DetailsForm, IntakeForm, PractitionerChoice, SlotForm
from dermis.web.clinic.portal.selectors import portal_enabled


def _label(offer: slots.Offer) -> str:
    local = timezone.localtime(offer.start)
    if offer.practitioner is not None:  # a location's page: the place is the page's own
        where = f" with {offer.practitioner.display_name}"
    else:
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


# The chosen offer's (practitioner, location, start), or None when the value is not an offer.
Chooser = Callable[[str], tuple[StaffMember, Location | None, datetime] | None]


def _booking(request, *, clinic, offers: list[slots.Offer], choose: Chooser, context: dict):
    """The booking form over `offers`: registers, screens and books through the services."""
    data = request.POST if request.method == "POST" else None
    details = DetailsForm(data)
    intake = IntakeForm(data)
    slot = SlotForm(data, choices=[(o.value, _label(o)) for o in offers])
    if data is not None:
        valid = [f.is_valid() for f in (details, intake, slot)]
        if all(valid):
            chosen = choose(slot.cleaned_data["slot"])
            try:
                answers = intake.intake()
                if chosen is None:
                    raise ServiceError("slot", "choose one of the times shown")
                d = details.cleaned_data
                made = services.book_first_consultation(
                    public_actor(request, clinic),
                    practitioner=chosen[0],
                    location=chosen[1],
                    start=chosen[2],
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
        **context,
        "clinic": clinic,
        "details": details,
        "intake": intake,
        "slot": slot,
        "has_offers": bool(offers),
        "forms": (details, slot, intake),
    }
    return render(
        request, "clinic/portal/book.html", context, status=422 if data is not None else 200
    )


def book(request, pk: int):
    practitioner = listed().filter(pk=pk).first()
    if practitioner is None or not portal_enabled(practitioner.clinic):
        raise Http404("not bookable online")

    def choose(value: str):
        chosen = slots.parse(value, practitioner)
        return None if chosen is None else (practitioner, *chosen)

    return _booking(
        request,
        clinic=practitioner.clinic,
        offers=slots.offers(practitioner, clock.now(), services.CONSULTATION_MINUTES),
        choose=choose,
        context={"practitioner": practitioner},
    )


def book_at(request, pk: int):
    """Booking at one location: the free times of any of its listed practitioners, or of one."""
    location = public_location(pk)
    if location is None:
        raise Http404("not bookable online")
    people = listed_at(location)
    choice = PractitionerChoice(request.GET or None, practitioners=people)
    wanted = choice.cleaned_data["practitioner"] if choice.is_valid() else ""
    shown = [p for p in people if str(p.pk) == wanted] or people

    def choose(value: str):
        chosen = slots.parse_at(value, location, people)
        return None if chosen is None else (chosen[0], location, chosen[1])

    return _booking(
        request,
        clinic=location.clinic,
        offers=slots.offers_at(location, shown, clock.now(), services.CONSULTATION_MINUTES),
        choose=choose,
        context={"location": location, "choice": choice},
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
    path("my/book/location/<int:pk>/", book_at, name="portal-book-location"),
    path("my/booked/", booked, name="portal-booked"),
]
