"""The clinic's portal settings page (admins): the portal on or off, the out-of-hours advice and
the check-in days. The service decides (portal/settings_services.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path

from dermis.web.clinic.access import ADMIN_ONLY, actor_of, staff_required
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import show
from dermis.web.clinic.portal import selectors, settings_services
from dermis.web.clinic.portal.checkins import LAST_DAY, MAX_PROMPT_DAYS


class PortalSettingsForm(forms.Form):
    enabled = forms.TypedChoiceField(
        label="Patient portal",
        choices=[("on", "On: patients can sign in"), ("off", "Off: nobody can sign in")],
        coerce=lambda v: v == "on",
        widget=forms.RadioSelect,
    )
    out_of_hours_advice = forms.CharField(
        label="Out-of-hours advice",
        required=False,
        max_length=settings_services.ADVICE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "What a patient with a warning sign should do when the clinic is shut. "
            "Leave it empty to show the standard advice (below)."
        ),
    )
    checkin_days = forms.CharField(
        label="Check-in days",
        max_length=60,
        help_text=(
            f"The days after a treatment on which patients are asked how their skin is, "
            f"separated by commas (each from 1 to {LAST_DAY}, at most {MAX_PROMPT_DAYS} days). "
            "For example: 1, 3, 7."
        ),
    )


def _initial(clinic) -> dict:
    row = selectors.settings_of(clinic)
    return {
        "enabled": "on" if row.enabled else "off",
        "out_of_hours_advice": row.out_of_hours_advice,
        "checkin_days": ", ".join(map(str, selectors.checkin_days(clinic))),
    }


@staff_required(ADMIN_ONLY)
def portal_settings(request):
    clinic = request.staff.clinic
    status = 200
    if request.method == "POST":
        form = PortalSettingsForm(request.POST)
        if form.is_valid():
            try:
                settings_services.update_portal_settings(actor_of(request), **form.cleaned_data)
            except ServiceError as err:
                show(form, err)
                status = err.status
            else:
                messages.success(request, "Portal settings saved.")
                return redirect("portal-settings")
        else:
            status = 400
    else:
        form = PortalSettingsForm(initial=_initial(clinic))
    context = {"form": form, "standard_advice": selectors.DEFAULT_OUT_OF_HOURS}
    return render(request, "clinic/settings/portal.html", context, status=status)


urlpatterns = [path("settings/portal/", portal_settings, name="portal-settings")]
