"""Signing in to the portal with a one-time link, signing out, and the patient's home page."""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from dermis.web.clinic.access import client_ip
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import show
from dermis.web.clinic.portal import selectors, signin
from dermis.web.clinic.portal.access import patient_required, sign_in, sign_out


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="The address you gave the clinic.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def pad(started: float) -> None:
    """Answer no sooner than PORTAL_SIGN_IN_SECONDS after `started` (known or unknown address)."""
    left = settings.PORTAL_SIGN_IN_SECONDS - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)


def request_link(request):
    form = EmailForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        started = time.monotonic()
        if form.is_valid():
            try:
                signin.request_link(
                    form.cleaned_data["email"], ip=client_ip(request), path=request.path
                )
            except ServiceError as err:
                show(form, err)
                status = err.status
            else:
                pad(started)
                return redirect("portal-link-sent")
        pad(started)
        status = status if status != 200 else 422
    return render(request, "clinic/portal/sign_in.html", {"form": form}, status=status)


def link_sent(request):
    return render(request, "clinic/portal/link_sent.html", {"minutes": signin.LINK_MINUTES})


def use_link(request, token: str):
    """GET shows a button (so a mail scanner's preview does not use the link); POST signs in."""
    if request.method == "POST":
        try:
            patient = signin.redeem(token, ip=client_ip(request), path=request.path)
        except ServiceError as err:
            return render(
                request, "clinic/portal/link_gone.html", {"message": err.message}, status=410
            )
        sign_in(request, patient)
        return redirect("portal-home")
    return render(request, "clinic/portal/use_link.html", {"token": token})


@require_POST
def sign_out_view(request):
    sign_out(request)
    return redirect("portal-sign-in")


@patient_required
def home(request):
    from dermis.web.clinic.portal import home as home_data

    patient = request.patient
    context = home_data.context(patient)
    context["out_of_hours"] = selectors.out_of_hours(patient.clinic)
    return render(request, "clinic/portal/home.html", context)


urlpatterns = [
    path("my/sign-in/", request_link, name="portal-sign-in"),
    path("my/sign-in/sent/", link_sent, name="portal-link-sent"),
    path("my/sign-in/<str:token>/", use_link, name="portal-sign-in-link"),
    path("my/sign-out/", sign_out_view, name="portal-sign-out"),
    path("my/", home, name="portal-home"),
]
