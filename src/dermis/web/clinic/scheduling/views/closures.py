"""Closures (admins): the clinic's own closure days, each location's public-holiday region and the
cancellation notice period. The set-up services decide (scheduling/setup.py)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone

from dermis.web.clinic.access import ADMIN_ONLY, actor_of, staff_required
from dermis.web.clinic.choice_fields import RowChoiceField
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import show
from dermis.web.clinic.models import ClosureDay, Location
from dermis.web.clinic.scheduling import closures, setup
from dermis.web.clinic.scheduling.forms import DateInput


class ClosureForm(forms.Form):
    day = forms.DateField(label="Day", widget=DateInput())
    location = RowChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="Every location"
    )
    reason = forms.CharField(max_length=100, required=False, label="Reason (shown in the diary)")

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(clinic=clinic)


class RegionForm(forms.Form):
    country = forms.CharField(max_length=2, required=False, label="Country code (e.g. GB)")
    subdivision = forms.CharField(max_length=10, required=False, label="Region (e.g. ENG)")


class NoticeForm(forms.Form):
    cancel_notice_hours = forms.IntegerField(
        label="Notice needed to cancel (hours)", min_value=0, max_value=336
    )


def _page(request, bound: dict, status: int = 200):
    clinic = request.staff.clinic
    today = timezone.localdate()
    places = list(Location.objects.filter(clinic=clinic))
    rows = []
    for place in places:
        form = bound.get(("region", place.pk)) or RegionForm(
            initial={"country": place.country, "subdivision": place.subdivision},
            prefix=f"loc{place.pk}",
        )
        upcoming = closures.public_holidays(place, today, today + timedelta(days=365))
        rows.append({"location": place, "form": form, "holidays": sorted(upcoming.items())[:8]})
    context = {
        "closures": ClosureDay.objects.filter(clinic=clinic, day__gte=today).select_related(
            "location"
        ),
        "closure_form": bound.get("closure") or ClosureForm(clinic=clinic),
        "notice_form": bound.get("notice")
        or NoticeForm(initial={"cancel_notice_hours": clinic.cancel_notice_hours}),
        "locations": rows,
    }
    return render(request, "clinic/diary/closures.html", context, status=status)


@staff_required(ADMIN_ONLY)
def closures_page(request):
    if request.method != "POST":
        return _page(request, {})
    actor = actor_of(request)
    action = request.POST.get("action", "")
    try:
        if action == "remove":
            closure = get_object_or_404(
                ClosureDay, pk=int(request.POST.get("closure") or 0), clinic=actor.clinic
            )
            setup.remove_closure(actor, closure)
            messages.success(request, "Closure removed.")
        elif action == "region":
            place = get_object_or_404(
                Location, pk=int(request.POST.get("location") or 0), clinic=actor.clinic
            )
            form = RegionForm(request.POST, prefix=f"loc{place.pk}")
            key = ("region", place.pk)
            if not form.is_valid():
                return _page(request, {key: form}, 400)
            try:
                setup.set_holiday_region(actor, place, **form.cleaned_data)
            except ServiceError as err:
                show(form, err)
                return _page(request, {key: form}, err.status)
            messages.success(request, f"Public holidays for {place.name} saved.")
        elif action == "notice":
            form = NoticeForm(request.POST)
            if not form.is_valid():
                return _page(request, {"notice": form}, 400)
            setup.set_cancel_notice(actor, form.cleaned_data["cancel_notice_hours"])
            messages.success(request, "Notice period saved.")
        else:
            form = ClosureForm(request.POST, clinic=request.staff.clinic)
            if not form.is_valid():
                return _page(request, {"closure": form}, 400)
            try:
                setup.add_closure(actor, **form.cleaned_data)
            except ServiceError as err:
                show(form, err)
                return _page(request, {"closure": form}, err.status)
            messages.success(request, f"Closed on {form.cleaned_data['day']:%a %d %b %Y}.")
    except ValueError:
        messages.error(request, "Nothing changed: no such closure or location.")
    return redirect("closures")


urlpatterns = [path("schedule/closures/", closures_page, name="closures")]
