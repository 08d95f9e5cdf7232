"""What a reminder says: its subject and text as things stand when it is sent (times as booked
now), with the links a patient may follow (confirm the appointment, accept a waitlist offer)."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from pydantic import ValidationError

from dermis.core.aftercare import aftercare
from dermis.core.errors import InputError
from dermis.web.clinic.core_inputs import (
    core_intake,
    core_patient,
    core_session,
    knowledge,
    latest_consultation,
)
from dermis.web.clinic.models import Appointment, Reminder, TreatmentSession, WaitlistOffer
from dermis.web.clinic.reminders.services import (
    CHECK_IN_KINDS,
    CONFIRM,
    UPCOMING,
    check_in_day,
    precare_items,
)
from dermis.web.clinic.scheduling import ical

Kind, Channel = Reminder.Kind, Reminder.Channel
WAITLIST_KINDS = ("waitlist_offer", "waitlist_gone")


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    attachments: tuple[tuple[str, bytes, str], ...] = ()


def _template(reminder: Reminder) -> str:
    return "confirmation" if reminder.key.startswith(CONFIRM) else reminder.kind


def confirmed_appointments(reminder: Reminder) -> list[Appointment]:
    """What a booking confirmation covers now: its series (or appointment), still booked."""
    first = reminder.appointment
    if first is None:
        return []
    qs = Appointment.objects.select_related("clinic", "location", "practitioner", "patient")
    if reminder.key.startswith(f"{CONFIRM}series:") and first.series_key:
        qs = qs.filter(series_key=first.series_key)
    else:
        qs = qs.filter(pk=first.pk)
    return list(qs.filter(status__in=UPCOMING).order_by("start"))


def _check_in(appointment: Appointment, day_number: int) -> dict:
    """The core's aftercare for that day of the charted session, or {} (a generic message)."""
    session = TreatmentSession.objects.filter(appointment=appointment).first()
    if session is None:
        return {}
    try:
        who = core_patient(appointment.patient, timezone.localtime(session.performed_at).date())
        intake = core_intake(latest_consultation(appointment.patient))
        schedule = aftercare(core_session(session), who, intake, knowledge())
    except (InputError, ValidationError):
        return {}
    day = next((d for d in schedule.days if d.number == day_number), None)
    return {
        "entries": day.entries if day else (),
        "warnings": [i.text for i in schedule.warnings()],
    }


def waitlist_offer(reminder: Reminder) -> WaitlistOffer | None:
    """The offer a waitlist message is about (its key is "waitlist:<offer>:<what>:<channel>")."""
    _, pk, *_ = reminder.key.split(":")
    related = ("entry__patient", "practitioner", "location", "entry__clinic")
    return WaitlistOffer.objects.select_related(*related).filter(pk=int(pk)).first()


def _waitlist(name: str, reminder: Reminder, ctx: dict) -> bool:
    """Add the offer to the context; False when there is nothing left to say."""
    from django.utils import timezone as tz

    from dermis.web.clinic.waitlist import links

    offer = waitlist_offer(reminder)
    if offer is None:
        return False
    if name == Kind.WAITLIST_OFFER:
        if offer.status != WaitlistOffer.Status.OPEN or offer.expires_at <= tz.now():
            return False
        ctx["offer_url"] = links.offer_url(offer)
    ctx["offer"] = offer
    return True


def _subject(name: str, reminder: Reminder) -> str:
    clinic = reminder.patient.clinic.name
    appt = reminder.appointment
    when = dateformat.format(timezone.localtime(appt.start), "l j F") if appt else ""
    return {
        "confirmation": f"Your booking at {clinic}",
        Kind.APPOINTMENT: f"Reminder: your appointment at {clinic} on {when}",
        Kind.PRECARE: f"Before your appointment on {when}: what to stop and when",
        Kind.AFTERCARE_DAY1: f"{clinic}: how is your skin today?",
        Kind.AFTERCARE_DAY3: f"{clinic}: checking in, three days on",
        Kind.AFTERCARE_DAY: f"{clinic}: checking in after your treatment",
        Kind.RECALL: f"{clinic}: time to book your maintenance session",
        Kind.WAITLIST_OFFER: f"{clinic}: an earlier appointment is free",
        Kind.WAITLIST_GONE: f"{clinic}: the earlier appointment has been taken",
    }[name]


def render(reminder: Reminder) -> Message | None:
    """The message as it should read now (times as booked now); None if nothing is left to say."""
    name, appt = _template(reminder), reminder.appointment
    ctx = {"reminder": reminder, "patient": reminder.patient, "clinic": reminder.patient.clinic}
    attachments: tuple = ()
    if appt is not None:
        ctx.update(appointment=appt, place=ical.place(appt))
    if name == Kind.APPOINTMENT and appt is not None:
        from dermis.web.clinic.waitlist import links  # links import the URL configuration

        ctx["reply_url"] = links.confirm_url(appt)
    if name in WAITLIST_KINDS and not _waitlist(name, reminder, ctx):
        return None
    if name == "confirmation":
        booked = confirmed_appointments(reminder)
        if not booked:
            return None
        ctx["appointments"] = booked
        cal = ical.calendar(booked, ical.Audience.PATIENT, reminder.patient.clinic.name)
        attachments = (("appointment.ics", ical.to_bytes(cal), "text/calendar"),)
    elif name == Kind.PRECARE and appt is not None:
        today = timezone.localdate()
        items = precare_items(appt)
        ctx["precare"] = [{"item": i, "now": i.from_date <= today} for i in items]
    elif name in CHECK_IN_KINDS and appt is not None:
        day = check_in_day(reminder)
        ctx.update(day=day, check_in=_check_in(appt, day))
    if reminder.channel == Channel.SMS:
        return Message("", render_to_string(f"clinic/email/sms/{name}.txt", ctx).strip())
    body = render_to_string(f"clinic/email/{name}.txt", ctx)
    return Message(_subject(name, reminder), body, attachments)
