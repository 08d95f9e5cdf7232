"""Reading the outbox for staff: what was sent, what failed and why, what is being retried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import QuerySet

from dermis.web.clinic import clock
from dermis.web.clinic.models import AppointmentReply, Clinic, Reminder

Status = Reminder.Status
SHOWN = 100
FAILURES_SINCE = timedelta(days=7)


@dataclass(frozen=True)
class Delivery:
    failed: list[Reminder]
    retrying: list[Reminder]
    sent: list[Reminder]
    cancel_requests: list[AppointmentReply]


def _rows(clinic: Clinic) -> QuerySet:
    return Reminder.objects.filter(patient__clinic=clinic).select_related("patient", "appointment")


def delivery(clinic: Clinic) -> Delivery:
    """The newest failures, retries and sent messages (each list capped), and cancel requests."""
    retrying = _rows(clinic).filter(status__in=(Status.PENDING, Status.SENDING), attempts__gt=0)
    requests = AppointmentReply.objects.filter(
        appointment__clinic=clinic,
        answer=AppointmentReply.Answer.CANCEL_REQUESTED,
        handled=False,
        appointment__start__gte=clock.now(),
    ).select_related("appointment__patient", "appointment__practitioner")
    return Delivery(
        failed=list(_rows(clinic).filter(status=Status.FAILED).order_by("-due_at")[:SHOWN]),
        retrying=list(retrying.order_by("next_try_at")[:SHOWN]),
        sent=list(_rows(clinic).filter(status=Status.SENT).order_by("-sent_at")[:SHOWN]),
        cancel_requests=list(requests.order_by("appointment__start")[:SHOWN]),
    )


def recent_failures(clinic: Clinic) -> int:
    """How many reminders failed for good in the last week (shown on the dashboard)."""
    since = clock.now() - FAILURES_SINCE
    return _rows(clinic).filter(status=Status.FAILED, due_at__gte=since).count()
