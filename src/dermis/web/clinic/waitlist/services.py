"""The waitlist: staff add and remove entries; a freed slot is offered to the first who fit;
the first to accept through the link gets it through the booking service (the safety gate
applies), the others are told it has gone; offers lapse. Also the patient's reply to a reminder
link (confirm, or ask to cancel).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction

from dermis.web.clinic import clock
from dermis.web.clinic.actors import ANY_STAFF, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.errors import ServiceError, conflict
from dermis.web.clinic.models import (
    Appointment,
    AppointmentReply,
    Location,
    Patient,
    Reminder,
    StaffMember,
    TreatmentPlan,
    WaitlistEntry,
    WaitlistOffer,
)
from dermis.web.clinic.reminders import services as reminders
from dermis.web.clinic.waitlist import selectors

log = logging.getLogger(__name__)
Offer = WaitlistOffer.Status
UPCOMING = reminders.UPCOMING


def _weekdays(days: list[int] | None) -> str:
    days = sorted(set(days or ()))
    if any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise ServiceError("weekdays", "must be days 0 (Monday) to 6 (Sunday)")
    return ",".join(str(d) for d in days)


def add_entry(
    actor: Actor,
    patient: Patient,
    *,
    practitioner: StaffMember | None = None,
    location: Location | None = None,
    plan: TreatmentPlan | None = None,
    kind: str = Appointment.Kind.TREATMENT,
    modality: str = "",
    weekdays: list[int] | None = None,
    earliest: time | None = None,
    latest: time | None = None,
    before: date | None = None,
    minutes: int = 60,
) -> WaitlistEntry:
    """Put a patient on the waitlist with their wishes (empty wishes: anything will do)."""
    actor.require(ANY_STAFF, "managing the waitlist")
    actor.own(patient, "patient")
    if practitioner is not None and (
        practitioner.clinic_id != actor.clinic.pk or not practitioner.is_clinical
    ):
        raise ServiceError("practitioner", "is not a practitioner of this clinic")
    if location is not None and location.clinic_id != actor.clinic.pk:
        raise ServiceError("location", "is not one of this clinic's")
    if plan is not None and plan.patient_id != patient.pk:
        raise ServiceError("plan", "is not one of this patient's plans")
    if kind not in Appointment.Kind.values:
        raise ServiceError("kind", f"must be one of {', '.join(Appointment.Kind.values)}")
    if not 10 <= minutes <= 480:
        raise ServiceError("minutes", "must be between 10 and 480")
    if earliest and latest and latest <= earliest:
        raise ServiceError("latest", "must be after the earliest time")
    if before is not None and before <= clock.today():
        raise ServiceError("before", "must be a day in the future")
    days = _weekdays(weekdays)
    with transaction.atomic():
        entry = WaitlistEntry.objects.create(
            clinic=actor.clinic,
            patient=patient,
            practitioner=practitioner,
            location=location,
            plan=plan,
            kind=kind,
            modality=modality,
            weekdays=days,
            earliest=earliest,
            latest=latest,
            before=before,
            minutes=minutes,
        )
        record(actor, Action.CREATE, entry, summary="waitlist entry")
    return entry


def remove_entry(actor: Actor, entry: WaitlistEntry) -> WaitlistEntry:
    actor.require(ANY_STAFF, "managing the waitlist")
    actor.own(entry, "entry")
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != WaitlistEntry.Status.WAITING:
            raise conflict("status", "only a waiting entry can be removed")
        entry.status = WaitlistEntry.Status.REMOVED
        entry.save(update_fields=["status"])
        selectors.open_offers(entry).update(status=Offer.EXPIRED)
        record(actor, Action.UPDATE, entry, summary="waitlist entry removed")
    return entry


def _queue(offer: WaitlistOffer, what: str, now: datetime) -> None:
    """An offer (or "it has gone") message to the patient, through the reminder outbox."""
    patient = offer.entry.patient
    kind = Reminder.Kind.WAITLIST_OFFER if what == "offer" else Reminder.Kind.WAITLIST_GONE
    for channel, accepted in reminders.channels(patient):
        fields = {"patient": patient, "kind": kind, "channel": channel, "due_at": now}
        status = Reminder.Status.PENDING if accepted else Reminder.Status.OPTED_OUT
        reminders.upsert(f"waitlist:{offer.pk}:{what}:{channel}", fields, status, retime=False)


def offer_freed_slot(appointment_id: int, *, now: datetime | None = None) -> list[WaitlistOffer]:
    """Offer a cancelled appointment's slot to the first N waiting patients it fits."""
    now = now or clock.now()
    appt = Appointment.objects.select_related("clinic").filter(pk=appointment_id).first()
    if appt is None or appt.status != Appointment.Status.CANCELLED or appt.start <= now:
        return []
    lapse_expired(now=now)
    slot = f"{appt.practitioner_id}:{appt.start.isoformat()}"
    expires = min(now + timedelta(hours=settings.WAITLIST_OFFER_HOURS), appt.start)
    actor = Actor.system(appt.clinic, channel="waitlist")
    offers = []
    with transaction.atomic():
        for entry in selectors.candidates(appt):
            if len(offers) >= settings.WAITLIST_OFFERS_PER_SLOT:
                break
            offer, created = WaitlistOffer.objects.get_or_create(
                entry=entry,
                slot=slot,
                defaults={
                    "practitioner_id": appt.practitioner_id,
                    "location_id": appt.location_id,
                    "room_id": appt.room_id,
                    "equipment_id": appt.equipment_id,
                    "start": appt.start,
                    "end": appt.start + timedelta(minutes=entry.minutes),
                    "expires_at": expires,
                },
            )
            if created:
                _queue(offer, "offer", now)
                record(actor, Action.CREATE, offer, patient=entry.patient, summary="offer sent")
                offers.append(offer)
    log.info("appointment %s freed: %s waitlist offers", appointment_id, len(offers))
    return offers


def lapse_expired(*, now: datetime | None = None) -> int:
    """Mark open offers whose time has passed as lapsed (one indexed update)."""
    stale = WaitlistOffer.objects.filter(status=Offer.OPEN, expires_at__lte=now or clock.now())
    return stale.update(status=Offer.EXPIRED)


def accept_offer(offer: WaitlistOffer, *, now: datetime | None = None) -> Appointment:
    """The patient accepts through the link: book it (rules and safety gate), tell the others."""
    from dermis.web.clinic.scheduling.services import book_appointment  # it calls our hook

    now = now or clock.now()
    with transaction.atomic():
        offer = WaitlistOffer.objects.select_for_update().select_related("entry").get(pk=offer.pk)
        entry = offer.entry
        if offer.status == Offer.ACCEPTED:
            raise conflict("offer", "you have already accepted this offer")
        if offer.status == Offer.GONE:
            raise conflict("offer", "sorry, this slot has already been taken")
        if offer.status == Offer.EXPIRED or offer.expires_at <= now:
            raise conflict("offer", "this offer has lapsed")
        if entry.status != WaitlistEntry.Status.WAITING:
            raise conflict("offer", "you are no longer on the waitlist")
        actor = Actor.system(entry.clinic, channel="link")
        try:
            appt = book_appointment(
                actor,
                entry.patient,
                practitioner=offer.practitioner,
                start=offer.start,
                end=offer.end,
                kind=entry.kind,
                location=offer.location,
                room=offer.room,
                equipment=offer.equipment,
                plan=entry.plan,
                modality=entry.modality,
                now=now,
            )
        except ServiceError as exc:
            if exc.code == "slot-taken":
                raise conflict("offer", "sorry, this slot has already been taken") from None
            raise
        offer.status, offer.appointment = Offer.ACCEPTED, appt
        offer.save(update_fields=["status", "appointment"])
        entry.status, entry.appointment = WaitlistEntry.Status.BOOKED, appt
        entry.save(update_fields=["status", "appointment"])
        selectors.open_offers(entry).update(status=Offer.EXPIRED)
        others = WaitlistOffer.objects.filter(slot=offer.slot, status=Offer.OPEN)
        others = list(others.filter(entry__clinic=entry.clinic).select_related("entry__patient"))
        WaitlistOffer.objects.filter(pk__in=[o.pk for o in others]).update(status=Offer.GONE)
        for other in others:
            _queue(other, "gone", now)
        record(actor, Action.UPDATE, entry, summary=f"waitlist offer {offer.pk} accepted")
    return appt


def reply_to_appointment(appointment: Appointment, answer: str) -> AppointmentReply:
    """The patient confirms (or asks to cancel) through the link in a reminder.

    Confirming sets the status to "confirmed" through the appointment lifecycle; the reply is
    kept and shown to staff either way. Asking to cancel never cancels by itself:
    the front desk sees the request on the delivery page and calls back.
    """
    if answer not in AppointmentReply.Answer.values:
        raise ServiceError("answer", "must be confirmed or cancel")
    if appointment.status not in UPCOMING or appointment.start <= clock.now():
        raise conflict("appointment", "this appointment can no longer be changed from a link")
    actor = Actor.system(appointment.clinic, channel="link")
    with transaction.atomic():
        reply = AppointmentReply.objects.create(appointment=appointment, answer=answer)
        confirmed = answer == AppointmentReply.Answer.CONFIRMED
        if confirmed:
            from dermis.web.clinic.scheduling import lifecycle

            lifecycle.change_status(actor, appointment, Appointment.Status.CONFIRMED)
        what = "confirmed" if confirmed else "asked to cancel"
        record(actor, Action.UPDATE, appointment, summary=f"patient {what} by link")
    return reply
