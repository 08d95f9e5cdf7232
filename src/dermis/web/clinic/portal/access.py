"""Who is signed in to the portal: a patient id in the session, apart from staff log-in.

A patient is not a Django user. `patient_required` lets a view run only for a signed-in patient
of a clinic whose portal is on, and sets `request.patient`; anyone else (staff included) is sent
to the portal's sign-in page. Records in a portal URL are looked up among the patient's own, so
another patient's id is a 404.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from dermis.web.clinic.access import client_ip
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient
from dermis.web.clinic.portal.selectors import portal_enabled
from dermis.web.clinic.portal.signin import SESSION_KEY

SESSION_SECONDS = 2 * 60 * 60


def signed_in_patient(request: HttpRequest) -> Patient | None:
    pk = request.session.get(SESSION_KEY)
    if not isinstance(pk, int):
        return None
    patient = Patient.objects.select_related("clinic").filter(pk=pk).first()
    if patient is None or not portal_enabled(patient.clinic):
        return None
    return patient


def sign_in(request: HttpRequest, patient: Patient) -> None:
    request.session.cycle_key()  # a new session id: a planted one is worthless
    request.session[SESSION_KEY] = patient.pk
    request.session.set_expiry(SESSION_SECONDS)


def sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def patient_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        patient = signed_in_patient(request)
        if patient is None:
            return redirect(reverse("portal-sign-in"))
        request.patient = patient
        return view(request, *args, **kwargs)

    return wrapper


def patient_actor(request: HttpRequest) -> Actor:
    return Actor.of_patient(request.patient, path=request.path, ip_address=client_ip(request))


def public_actor(request: HttpRequest, clinic) -> Actor:
    return Actor.public(clinic, path=request.path, ip_address=client_ip(request))
