"""The waitlist: a cancellation offers its slot to the first who fit, through the outbox with a
signed link; the first to accept gets it through the booking service, the others hear it has
gone; offers lapse; the safety gate still decides."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone

from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import (
    Appointment,
    AuditEvent,
    Reminder,
    WaitlistEntry,
    WaitlistOffer,
)
from dermis.web.clinic.reminders import delivery
from dermis.web.clinic.reminders.render import render
from dermis.web.clinic.scheduling import services as scheduling
from dermis.web.clinic.waitlist import links, services
from tests import factories

Offer = WaitlistOffer.Status


@pytest.fixture
def slot(world, django_capture_on_commit_callbacks):
    """Nora's consultation in three days at 10:00 with Pat, and a function that cancels it."""
    factories.working_hours(world.pat)
    start = factories.next_weekday_at(10, days_ahead=3)
    appt = factories.appointment(world.pat, world.nora, start, by=world.fran)

    def cancel() -> list[WaitlistOffer]:
        with django_capture_on_commit_callbacks(execute=True):
            scheduling.cancel_appointment(factories.actor(world.fran), appt, "asked")
        return list(WaitlistOffer.objects.order_by("pk"))

    return appt, cancel


def _waiting(world, given: str, **wishes) -> WaitlistEntry:
    who = factories.patient(world.fran, given=given, email=f"{given.lower()}@example.org")
    wishes.setdefault("kind", Appointment.Kind.CONSULTATION)
    return services.add_entry(factories.actor(world.fran), who, **wishes)


def test_a_cancellation_offers_the_slot_to_the_first_who_fit(world, slot, settings):
    appt, cancel = slot
    settings.WAITLIST_OFFERS_PER_SLOT = 2
    day = timezone.localtime(appt.start).weekday()
    first = _waiting(world, "Ada", practitioner=world.pat)
    _waiting(world, "Bea", weekdays=[(day + 1) % 7])  # another day only
    _waiting(world, "Cy", earliest=time(11))  # later in the day only
    second = _waiting(world, "Dot")
    _waiting(world, "Eve")  # third who fits: beyond the two offered

    offers = cancel()

    assert [o.entry for o in offers] == [first, second]
    assert {(o.start, o.practitioner, o.status) for o in offers} == {
        (appt.start, world.pat, Offer.OPEN)
    }
    messages = Reminder.objects.filter(kind="waitlist_offer").order_by("pk")
    assert [m.patient for m in messages] == [first.patient, second.patient]
    assert {m.status for m in messages} == {"pending"}
    assert all(m.next_try_at <= timezone.now() for m in messages)  # due at once
    body = render(messages[0]).body
    (token,) = re.findall(r"http://127\.0\.0\.1:8000/offer/([^/\s]+)/", body)
    assert links.offer_from(token) == offers[0]
    assert f"{timezone.localtime(appt.start):%A %-d %B %Y} at 10:00" in body


def test_the_first_to_accept_is_booked_and_the_others_hear_it_has_gone(world, slot):
    appt, cancel = slot
    ada, bea = _waiting(world, "Ada"), _waiting(world, "Bea")
    offer_ada, offer_bea = cancel()

    booked = services.accept_offer(offer_bea)

    assert (booked.patient, booked.start, booked.status) == (bea.patient, appt.start, "booked")
    offer_ada.refresh_from_db()
    offer_bea.refresh_from_db()
    bea.refresh_from_db()
    assert (offer_bea.status, offer_bea.appointment) == (Offer.ACCEPTED, booked)
    assert (bea.status, bea.appointment) == (WaitlistEntry.Status.BOOKED, booked)
    assert offer_ada.status == Offer.GONE
    gone = Reminder.objects.get(kind="waitlist_gone")
    assert gone.patient == ada.patient
    assert "has been taken by someone else" in render(gone).body
    with pytest.raises(ServiceError) as late:
        services.accept_offer(offer_ada)
    assert late.value.status == 409
    assert late.value.message == "sorry, this slot has already been taken"
    assert Appointment.objects.filter(start=appt.start, status="booked").count() == 1
    event = AuditEvent.objects.get(summary=f"link: waitlist offer {offer_bea.pk} accepted")
    assert event.patient_id_ref == bea.patient.pk


def test_an_offer_lapses(world, slot):
    _, cancel = slot
    _waiting(world, "Ada")
    (offer,) = cancel()
    later = offer.expires_at + timedelta(seconds=1)

    with pytest.raises(ServiceError, match="lapsed"):
        services.accept_offer(offer, now=later)
    assert services.lapse_expired(now=later) == 1

    offer.refresh_from_db()
    assert offer.status == Offer.EXPIRED
    # Its message, not yet sent, now has nothing to say.
    row = Reminder.objects.get(kind="waitlist_offer", channel="email")
    assert delivery.deliver(row.pk) == "cancelled"


def test_the_safety_gate_still_decides(world, slot):
    _, cancel = slot
    deferred = factories.patient(world.fran, given="Gil", email="gil@example.org")
    factories.deferred_by_isotretinoin(world.pat, deferred)
    services.add_entry(
        factories.actor(world.fran),
        deferred,
        kind=Appointment.Kind.TREATMENT,
        modality="microneedling",
    )
    (offer,) = cancel()

    with pytest.raises(ServiceError) as refused:
        services.accept_offer(offer)

    assert refused.value.status in (409, 422)
    assert not Appointment.objects.filter(patient=deferred).exists()
    offer.refresh_from_db()
    assert offer.status == Offer.OPEN


def test_a_cancelled_past_or_uncancelled_appointment_offers_nothing(world, slot):
    appt, _ = slot
    _waiting(world, "Ada")

    assert services.offer_freed_slot(appt.pk) == []  # still booked


def test_wishes_are_checked(world):
    actor = factories.actor(world.fran)
    cases = [
        ({"weekdays": [7]}, "weekdays"),
        ({"minutes": 5}, "minutes"),
        ({"earliest": time(12), "latest": time(11)}, "latest"),
        ({"practitioner": world.oscar}, "practitioner"),
        ({"kind": "massage"}, "kind"),
        ({"before": timezone.localdate()}, "before"),
    ]
    for wishes, field in cases:
        with pytest.raises(ServiceError) as refused:
            services.add_entry(actor, world.nora, **wishes)
        assert refused.value.field == field
    assert not WaitlistEntry.objects.exists()


def test_another_clinics_patient_cannot_be_added(world):
    with pytest.raises(ServiceError) as refused:
        services.add_entry(factories.actor(world.fran), world.rhys)
    assert refused.value.status == 404


def test_the_subject_access_export_includes_the_waitlist(world, slot):
    from dermis.web.portability import subject_access

    _, cancel = slot
    entry = _waiting(world, "Ada")
    (offer,) = cancel()

    (exported,) = subject_access(entry.patient)["waitlist"]

    assert exported["id"] == entry.pk
    assert [o["id"] for o in exported["offers"]] == [offer.pk]
    assert all("claim_token" not in r for r in subject_access(entry.patient)["reminders"])
