"""The public practitioner directory ("find an aesthetician"): no login, no patient data.

Only clinical staff who chose to be listed, with an active account, ever appear; front desk
staff never do, whatever their flag says.
"""

from __future__ import annotations

import re

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from dermis.web.clinic.models import CLINICAL_ROLES, MODALITIES, StaffMember

# A UK postcode without spaces: outward code (area letters, district) then the inward code.
_POSTCODE = re.compile(r"(?P<outward>(?P<area>[A-Z]{1,2})\d[A-Z\d]?)(?P<inward>\d[A-Z]{2})?")


class DirectoryFilter(forms.Form):
    treatment = forms.ChoiceField(choices=[("", "Any treatment"), *MODALITIES], required=False)
    where = forms.CharField(
        label="Town or postcode",
        max_length=60,
        required=False,
        help_text="For example Leeds, LS1 or LS1 4AP",
    )


def listed():
    return (
        StaffMember.objects.filter(
            listed_in_directory=True, role__in=CLINICAL_ROLES, user__is_active=True
        )
        .select_related("clinic")
        .prefetch_related("locations", "clinic__locations")
        .order_by("display_name", "pk")
    )


def places(staff: StaffMember) -> list:
    """Where the practitioner works: their own locations, else all of their clinic's."""
    return list(staff.locations.all()) or list(staff.clinic.locations.all())


def treatment_names(staff: StaffMember) -> list[str]:
    names = dict(MODALITIES)
    return [names.get(t, t) for t in staff.treatments or [] if isinstance(t, str)]


def _compact(postcode: str) -> str:
    return re.sub(r"\s+", "", postcode).upper()


def postcode_matches(query: str, postcode: str) -> bool:
    """ "LS1" or "LS1 9ZZ" match "LS1 4AP" (same outward code), "LS" matches any LS postcode;
    "LS1" does not match "LS12 3AB"."""
    q, target = _compact(query), _POSTCODE.fullmatch(_compact(postcode))
    if not q or target is None:
        return bool(q) and _compact(postcode).startswith(q)
    if q.isalpha():
        return q == target["area"]
    wanted = _POSTCODE.fullmatch(q)
    return wanted is not None and wanted["outward"] == target["outward"]


def matches_place(staff: StaffMember, query: str) -> bool:
    town = " ".join(query.split()).casefold()
    # Where they actually work: a practitioner at one branch is not found at the head office.
    spots = [(loc.town, loc.postcode) for loc in places(staff)]
    spots = spots or [(staff.clinic.town, staff.clinic.postcode)]
    return any(t.casefold() == town or postcode_matches(query, p) for t, p in spots)


@require_safe
def directory(request) -> HttpResponse:
    form = DirectoryFilter(request.GET or None)
    people = list(listed())
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
        {"form": form, "entries": entries, "filtered": form.is_bound and form.is_valid()},
    )


@require_safe
def practitioner(request, pk: int) -> HttpResponse:
    staff = listed().filter(pk=pk).first()
    if staff is None:
        raise Http404("not listed")
    return render(
        request,
        "clinic/directory/practitioner.html",
        {"practitioner": staff, "places": places(staff), "treatments": treatment_names(staff)},
    )


urlpatterns = [
    path("directory/", directory, name="directory"),
    path("directory/<int:pk>/", practitioner, name="directory-practitioner"),
]
