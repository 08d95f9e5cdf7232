"""Reading the outbox for staff: what was sent, what failed and why, what is being retried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from dermis.web.clinic import clock
from dermis.web.clinic.models import AppointmentReply, Clinic, Reminder
from dermis.web.clinic.prepared import PreparedCount, PreparedRows
from dermis.web.clinic.together import Read, read_together

Status = Reminder.Status
SHOWN = 100
FAILURES_SINCE = timedelta(days=7)


@dataclass(frozen=True)
class Delivery:
    failed: list[Reminder]
    retrying: list[Reminder]
    sent: list[Reminder]
    cancel_requests: list[AppointmentReply]


def _of(clinic: int) -> QuerySet:
    return Reminder.objects.filter(patient__clinic_id=clinic).select_related(
        "patient", "appointment"
    )


# The outbox page's four lists, composed once per process (clinic/prepared.py): composing them
# took about as long as reading them.
FAILED = PreparedRows(
    Reminder,
    lambda clinic: _of(clinic).filter(status=Status.FAILED).order_by("-due_at"),
    clinic=int,
)
RETRYING = PreparedRows(
    Reminder,
    lambda clinic: (
        _of(clinic)
        .filter(status__in=(Status.PENDING, Status.SENDING), attempts__gt=0)
        .order_by("next_try_at")
    ),
    clinic=int,
)
SENT = PreparedRows(
    Reminder,
    lambda clinic: _of(clinic).filter(status=Status.SENT).order_by("-sent_at"),
    clinic=int,
)
CANCEL_REQUESTS = PreparedRows(
    AppointmentReply,
    lambda clinic, now: (
        AppointmentReply.objects.filter(
            appointment__clinic_id=clinic,
            answer=AppointmentReply.Answer.CANCEL_REQUESTED,
            handled=False,
            appointment__start__gte=now,
        )
        .select_related("appointment__patient", "appointment__practitioner")
        .order_by("appointment__start")
    ),
    clinic=int,
    now=datetime,
)


def delivery(clinic: Clinic) -> Delivery:
    """The newest failures, retries and sent messages (each list capped), and cancel requests."""
    now, pk = clock.now(), clinic.pk
    lists = (FAILED, RETRYING, SENT)
    # The four lists in one round trip.
    with read_together(
        *(rows.ahead(SHOWN, clinic=pk) for rows in lists),
        CANCEL_REQUESTS.ahead(SHOWN, clinic=pk, now=now),
    ):
        return Delivery(
            *(rows.rows(SHOWN, clinic=pk) for rows in lists),
            cancel_requests=CANCEL_REQUESTS.rows(SHOWN, clinic=pk, now=now),
        )


def recent_failures(clinic: Clinic, now: datetime | None = None) -> int:
    """How many reminders failed for good in the week before `now` (the services' clock by
    default): shown on the dashboard."""
    since = (now or clock.now()) - FAILURES_SINCE
    return RECENT_FAILURES.count(clinic=clinic.pk, since=since)


def recent_failures_read(clinic: Clinic, now: datetime) -> Read | None:
    """The read `recent_failures(clinic, now)` makes (`prepared.read_together`)."""
    return RECENT_FAILURES.ahead(clinic=clinic.pk, since=now - FAILURES_SINCE)


RECENT_FAILURES = PreparedCount(  # composed once: the dashboard asks on every visit
    Reminder,
    lambda clinic, since: _of(clinic).filter(status=Status.FAILED, due_at__gte=since),
    clinic=int,
    since=datetime,
)
