"""The clinic's audit log, for its admin: read-only, newest first, filterable, 50 a page."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_safe

from dermis.web.clinic.access import ADMIN_ONLY, staff_required
from dermis.web.clinic.models import AuditEvent

PAGE_SIZE = 50


class AuditFilter(forms.Form):
    user = forms.ChoiceField(required=False, label="User")
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditEvent.Action.choices], required=False, label="Action"
    )
    patient = forms.IntegerField(required=False, min_value=1, label="Patient id")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, usernames: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Anyone"), *((u, u) for u in usernames)]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "must be on or after the From date")
        return data


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered(events, data: dict):
    if data.get("user"):
        events = events.filter(username=data["user"])
    if data.get("action"):
        events = events.filter(action=data["action"])
    if data.get("patient"):
        events = events.filter(patient_id_ref=data["patient"])
    if data.get("since"):
        events = events.filter(at__gte=_day_start(data["since"]))
    if data.get("until"):
        # The whole of the To day, in the clinic's time zone.
        events = events.filter(at__lt=_day_start(data["until"] + timedelta(days=1)))
    return events


@require_safe
@staff_required(ADMIN_ONLY)
def audit_log(request) -> HttpResponse:
    events = AuditEvent.objects.filter(clinic=request.staff.clinic)
    usernames = list(
        events.exclude(username="")
        .order_by("username")
        .values_list("username", flat=True)
        .distinct()
    )
    form = AuditFilter(request.GET or None, usernames=usernames)
    if form.is_bound and form.is_valid():
        events = filtered(events, form.cleaned_data)
    elif form.is_bound:
        events = events.none()
    page = Paginator(events.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinic/audit/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


urlpatterns = [path("audit/", audit_log, name="audit-log")]
