"""Reminder delivery you can see: sent, failed (with the reason) and retrying; send again."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST, require_safe

from dermis.web.clinic.access import ANY_STAFF, actor_of, clinic_object, staff_required
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.models import Reminder, Role
from dermis.web.clinic.reminders import selectors, services

DELIVERY_ROLES = (Role.ADMIN, Role.FRONT_DESK)


@require_safe
@staff_required(DELIVERY_ROLES)
def delivery(request):
    context = {"delivery": selectors.delivery(request.staff.clinic)}
    return render(request, "clinic/reminders/delivery.html", context)


@require_POST
@staff_required(ANY_STAFF)
def send_again(request, reminder_id: int):
    # Another clinic's reminder is a 404 whatever the role; then the role decides.
    reminder = clinic_object(request, Reminder, reminder_id)
    if request.staff.role not in DELIVERY_ROLES:
        raise PermissionDenied("Your role does not give access to this page.")
    try:
        services.send_again(actor_of(request), reminder)
    except ServiceError as err:
        messages.error(request, sentence(err.message))
        return redirect("reminder-delivery")
    messages.success(request, "The reminder will be sent again in a moment.")
    return redirect("reminder-delivery")


urlpatterns = [
    path("reminders/", delivery, name="reminder-delivery"),
    path("reminders/<int:reminder_id>/send-again/", send_again, name="reminder-send-again"),
]
