"""The public practitioner directory ("find an aesthetician"): no login, no patient data.

Only clinical staff who chose to be listed, with an active account, ever appear; front desk
staff never do, whatever their flag says.
"""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from dermis.web.clinic import clock
from dermis.web.clinic.directory.selectors import (
    listed,
    location_page,
    matches_place,
    places,
    public_location_ids,
    treatment_names,
)
from dermis.web.clinic.models import MODALITIES
from dermis.web.clinic.portal.selectors import portal_enabled


class DirectoryFilter(forms.Form):
    treatment = forms.ChoiceField(choices=[("", "Any treatment"), *MODALITIES], required=False)
    where = forms.CharField(
        label="Town or postcode",
        max_length=60,
        required=False,
        help_text="For example Leeds, LS1 or LS1 4AP",
    )


@require_safe
def directory(request) -> HttpResponse:
    form = DirectoryFilter(request.GET or None)
    people = list(listed())
    public = public_location_ids(people)
    if form.is_valid():
        treatment, where = form.cleaned_data["treatment"], form.cleaned_data["where"].strip()
        if treatment:
            # In Python: JSON `contains` lookups are not available on SQLite.
            people = [p for p in people if treatment in (p.treatments or [])]
        if where:
            people = [p for p in people if matches_place(p, where)]
    entries = [{"staff": p, "places": places(p), "treatments": treatment_names(p)} for p in people]
    return render(
        request,
        "clinic/directory/directory.html",
        {
            "form": form,
            "entries": entries,
            "filtered": form.is_bound and form.is_valid(),
            "public": public,
        },
    )


@require_safe
def practitioner(request, pk: int) -> HttpResponse:
    staff = listed().filter(pk=pk).first()
    if staff is None:
        raise Http404("not listed")
    return render(
        request,
        "clinic/directory/practitioner.html",
        {
            "practitioner": staff,
            "places": places(staff),
            "treatments": treatment_names(staff),
            "bookable": portal_enabled(staff.clinic),
            "public": public_location_ids([staff]),
        },
    )


@require_safe
def location(request, pk: int) -> HttpResponse:
    found = location_page(pk, clock.today())
    if found is None:
        raise Http404("no public page")
    return render(request, "clinic/directory/location.html", {"page": found})


urlpatterns = [
    path("directory/", directory, name="directory"),
    path("directory/<int:pk>/", practitioner, name="directory-practitioner"),
    path("directory/locations/<int:pk>/", location, name="directory-location"),
]
