"""Delivering the outbox without holding the database while talking to the network.

A worker round has three steps, each its own short piece of database work:
1. **Claim** (one indexed read): the oldest rows that are pending, or "sending" with a lapsed
   lease, whose `next_try_at` has come (index `reminder_due_work`). On PostgreSQL the read is
   `FOR UPDATE SKIP LOCKED`, so workers running at once take different rows; on SQLite the claim
   is a conditional UPDATE (only rows still unclaimed change) in an IMMEDIATE transaction. Claimed
   rows become "sending" with the round's token and a lease (`next_try_at = now + LEASE`).
2. **Send**, with no transaction open: a slow mail server or SMS provider holds no lock, so the
   clinic keeps writing.
3. **Record** the result in another short transaction, only under the round's token (a row whose
   lease ran out and that another worker took is not overwritten).
A worker that dies between the server's acceptance and step 3 leaves the row "sending"; when the
lease lapses it is sent again with the same Message-ID, which a receiving system can drop as a
duplicate. Nothing else sends twice, and nothing is lost.

Failures: a network failure (or a server's 4xx "try later") is retried with backoff up to
MAX_ATTEMPTS, then failed; a refusal (5xx, an SMS provider's 4xx) fails at once with its reason;
an unexpected error is recorded and retried with backoff up to the same limit.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from dermis.web.clinic.models import ATTENDED_STATUSES, Reminder
from dermis.web.clinic.portal import signin
from dermis.web.clinic.portal.selectors import checkin_days
from dermis.web.clinic.reminders.render import Message, render
from dermis.web.clinic.reminders.services import (
    CHECK_IN_KINDS,
    CONFIRM,
    UPCOMING,
    check_in_day,
    message_id,
)
from dermis.web.clinic.reminders.sms import SMSError, get_sms_backend

log = logging.getLogger(__name__)
Status, Channel = Reminder.Status, Reminder.Channel

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=5)  # doubled after each failed attempt
LEASE = timedelta(minutes=10)  # far longer than one send (SMTP and SMS time out well before)
BATCH = 20
ACTIVE = (Status.PENDING, Status.SENDING)


@dataclass(frozen=True)
class Claim:
    token: str
    at: datetime
    ids: tuple[int, ...]


def claim(*, now: datetime | None = None, batch: int = BATCH, ids=None) -> Claim:
    """Take up to `batch` due rows (or just `ids`, when due) for this round; see the docstring."""
    now = now or timezone.now()
    token = get_random_string(32)
    due = Reminder.objects.filter(status__in=ACTIVE, next_try_at__lte=now)
    if ids is not None:
        due = due.filter(pk__in=ids)
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            picked = due.select_for_update(skip_locked=True).order_by("next_try_at", "pk")
        else:
            picked = due.order_by("next_try_at", "pk")
        chosen = list(picked.values_list("pk", flat=True)[:batch])
        if chosen:
            # Conditional: a row another worker claimed meanwhile no longer matches `due`.
            due.filter(pk__in=chosen).update(
                status=Status.SENDING, claim_token=token, claimed_at=now, next_try_at=now + LEASE
            )
    mine = Reminder.objects.filter(pk__in=chosen, claim_token=token) if chosen else None
    got = tuple(mine.order_by("next_try_at", "pk").values_list("pk", flat=True)) if mine else ()
    return Claim(token, now, got)


def _instead(row: Reminder) -> tuple[str, str] | None:
    """(status, reason) when the row must not be sent now; None to send it."""
    if row.kind == Reminder.Kind.PORTAL_LINK:
        return signin.link_instead(row)
    patient, appt = row.patient, row.appointment
    email = row.channel == Channel.EMAIL
    if not (patient.email_reminders if email else patient.sms_reminders):
        return Status.OPTED_OUT, ""
    check_in = row.kind in CHECK_IN_KINDS
    if appt is not None and not row.key.startswith(CONFIRM):
        # Check-ins still go after the visit (booked or done); the rest only before it.
        ok = (*UPCOMING, *ATTENDED_STATUSES) if check_in else UPCOMING
        if appt.status not in ok:
            return Status.CANCELLED, ""
    if check_in and check_in_day(row) not in checkin_days(patient.clinic):
        return Status.CANCELLED, "the clinic no longer asks for a check-in on that day"
    if not (patient.email if email else patient.phone):
        return Status.FAILED, "no e-mail address" if email else "no phone number"
    if not email and not settings.SMS_REMINDERS:
        return Status.CANCELLED, "SMS reminders are turned off"
    return None


def describe(exc: BaseException) -> str:
    """The class and codes only: a server's text can quote the recipient's address."""
    codes: list[str] = []
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in exc.recipients.values()})
    elif isinstance(exc, smtplib.SMTPResponseException):
        codes = [str(exc.smtp_code)]
    elif isinstance(exc, SMSError):
        return str(exc)[:300]
    return " ".join([type(exc).__name__, *codes])[:300]


def permanent(exc: BaseException) -> bool:
    """True when trying again cannot help: the server or provider refused the message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    if isinstance(exc, SMSError):
        return exc.permanent
    return False


def _send(row: Reminder, message: Message) -> str:
    """Hand the message over; returns its id. Raises when it was not accepted."""
    mid = message_id(row.key)
    if row.channel == Channel.SMS:
        reference = mid.strip("<>").partition("@")[0]
        return f"sms:{get_sms_backend().send(row.patient.phone, message.body, reference=reference)}"
    email = EmailMessage(
        message.subject,
        message.body,
        settings.DEFAULT_FROM_EMAIL,
        [row.patient.email],
        headers={"Message-ID": mid},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    for name, content, mimetype in message.attachments:
        email.attach(name, content, mimetype)
    if email.send() != 1:
        raise OSError("the mail backend accepted no message")
    return mid


def _message(row: Reminder) -> Message | None:
    if row.kind == Reminder.Kind.PORTAL_LINK:
        return signin.link_message(row)
    return render(row)


def retry_at(attempts: int, now: datetime) -> datetime:
    return now + RETRY_AFTER * 2 ** (attempts - 1)


def _record(row: Reminder, token: str, **fields) -> bool:
    """Write the outcome if the claim is still ours (one short transaction, autocommit)."""
    done = Reminder.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING)
    return bool(done.update(claim_token=None, **fields))


def _failed(row: Reminder, token: str, exc: BaseException, now: datetime) -> str:
    attempts, reason = row.attempts + 1, describe(exc)
    give_up = permanent(exc) or attempts >= MAX_ATTEMPTS
    status = Status.FAILED if give_up else Status.PENDING
    _record(
        row,
        token,
        status=status,
        attempts=attempts,
        last_error=reason,
        next_try_at=None if give_up else retry_at(attempts, now),
    )
    log.warning("reminder %s: attempt %s not accepted (%s)", row.pk, attempts, reason)
    return "failed" if give_up else "retry"


def process(pk: int, token: str) -> str:
    """Send one claimed row and record what happened; returns the outcome."""
    row = Reminder.objects.select_related("patient__clinic", "appointment").filter(pk=pk).first()
    if row is None:  # erased with its patient since the claim
        return "missing"
    now = timezone.now()
    try:
        instead = _instead(row)
        message = None if instead else _message(row)
        if instead or message is None:
            status, reason = instead or (Status.CANCELLED, "")
            _record(row, token, status=status, last_error=reason, next_try_at=None)
            log.info("reminder %s not sent: %s", row.pk, status)
            return str(status)
        sent_id = _send(row, message)
    except Exception as exc:
        if not isinstance(exc, (OSError, SMSError)):
            log.error("reminder %s: unexpected %s", row.pk, type(exc).__name__)
        return _failed(row, token, exc, now)
    recorded = _record(
        row,
        token,
        status=Status.SENT,
        message_id=sent_id[:200],
        sent_at=timezone.now(),
        last_error="",
        next_try_at=None,
    )
    if not recorded:  # our lease ran out and another worker took the row: it will say
        log.warning("reminder %s: sent, but its claim had lapsed", row.pk)
    return "sent"


def run_round(*, batch: int = BATCH, now: datetime | None = None) -> Counter[str]:
    """Claim a batch of due rows, send each, and count the outcomes."""
    taken = claim(now=now, batch=batch)
    outcomes: Counter[str] = Counter()
    for pk in taken.ids:
        outcomes[process(pk, taken.token)] += 1
    return outcomes


def deliver(reminder_id: int) -> str:
    """Send this one reminder now if it is due and nobody else holds it (tests, "send now").

    Returns "sent", "retry", "failed", "not_due" (not yet, or another worker holds it), "missing",
    or the status it ended in (cancelled, opted_out, or sent by an earlier run).
    """
    row = Reminder.objects.filter(pk=reminder_id).only("status", "next_try_at").first()
    if row is None:
        return "missing"
    if row.status not in ACTIVE:
        return str(row.status)
    taken = claim(ids=[reminder_id], batch=1)
    if not taken.ids:
        return "not_due"
    return process(reminder_id, taken.token)
