"""Booking a first consultation from the directory: real free slots, the patient registered and
booked through the services, the answers screened and explained in plain words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.models import (
    Appointment,
    AuditEvent,
    Patient,
    PortalIntake,
    PortalSettings,
)
from dermis.web.clinic.portal import services, slots
from tests import factories
from tests.web.portal.portal_kit import book, months_ago


@pytest.fixture
def bookable(world):
    factories.working_hours(world.pat)
    return world.pat


def test_the_directory_page_offers_booking(world, bookable):
    page = Client().get(reverse("directory-practitioner", args=[bookable.pk]))
    assert reverse("portal-book", args=[bookable.pk]).encode() in page.content
    PortalSettings.objects.create(clinic=world.northgate, enabled=False)
    page = Client().get(reverse("directory-practitioner", args=[bookable.pk]))
    assert reverse("portal-book", args=[bookable.pk]).encode() not in page.content
    assert Client().get(reverse("portal-book", args=[bookable.pk])).status_code == 404


def test_offers_are_free_times_from_the_slot_finder(world, bookable):
    now = clock.now()
    offers = slots.offers(bookable, now, services.CONSULTATION_MINUTES)
    assert len(offers) == slots.PER_PLACE
    assert all(o.start > now for o in offers)
    first = offers[0]
    # take the first offer: it is no longer offered
    factories.appointment(bookable, world.nora, first.start, minutes=30)
    again = slots.offers(bookable, now, services.CONSULTATION_MINUTES)
    assert first.start not in [o.start for o in again]
    page = Client().get(reverse("portal-book", args=[bookable.pk]))
    assert page.status_code == 200
    assert timezone.localtime(again[0].start).strftime("%H:%M").encode() in page.content


def test_a_new_patient_books_a_consultation(world, bookable):
    client = Client()
    response = book(client, bookable)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == reverse("portal-booked")
    patient = Patient.objects.get(email="iris@example.org")
    assert patient.clinic == world.northgate and patient.created_by is None
    appointment = patient.appointments.get()
    assert appointment.kind == Appointment.Kind.CONSULTATION
    assert appointment.practitioner == bookable
    assert (appointment.end - appointment.start) == timedelta(minutes=30)
    intake = PortalIntake.objects.get(patient=patient)
    assert intake.modality == "microneedling" and intake.reviewed_at is None
    page = client.get(response["Location"])
    assert b"Your consultation is booked" in page.content
    assert b"Nothing in your answers stops microneedling" in page.content
    actions = set(
        AuditEvent.objects.filter(patient_id_ref=patient.pk).values_list("object_type", "summary")
    )
    assert ("Patient", "portal: patient registered") in actions
    assert ("Appointment", "portal: appointment (consultation)") in actions
    assert ("PortalIntake", "portal: health questions answered") in actions
    # signed in to their own page
    assert b"Hello Iris" in client.get(reverse("portal-home")).content


def test_a_deferral_is_explained_with_its_date(world, bookable):
    client = Client()
    response = book(client, bookable, isotretinoin="past", isotretinoin_last_dose=months_ago(2))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "We can't offer microneedling before" in page
    intake = PortalIntake.objects.get()
    until = next(f["until"] for f in intake.screening["findings"] if f["rule"] == "isotretinoin")
    day = timezone.datetime.fromisoformat(until)
    assert f"{day.day} {day:%B %Y}" in page
    assert "Roaccutane" in page and "You can still book a consultation" in page
    # the consultation is still booked
    assert Appointment.objects.filter(kind="consultation").count() == 1


def test_an_absolute_finding_without_an_end_is_explained(world, bookable):
    client = Client()
    book(client, bookable, pregnant="yes")
    page = client.get(reverse("portal-booked")).content.decode()
    assert "We can't offer microneedling online" in page
    assert "pregnancy" in page


def test_follow_ups_are_required_when_their_question_says_yes(world, bookable):
    response = book(Client(), bookable, takes_medicines="yes", isotretinoin="past")
    assert response.status_code == 422
    text = response.content.decode()
    assert "Tell us which medicines or supplements you take." in text
    assert "Tell us roughly when your last dose was." in text
    assert not Patient.objects.filter(email="iris@example.org").exists()


def test_a_taken_slot_writes_nothing(world, bookable):
    from tests.web.portal.portal_kit import first_offer

    value = first_offer(bookable)
    _location, start = slots.parse(value, bookable)
    factories.appointment(bookable, world.nora, start, minutes=30)
    response = book(Client(), bookable, slot=value)
    assert response.status_code == 422
    assert not Patient.objects.filter(email="iris@example.org").exists()
    assert not PortalIntake.objects.exists()


def test_missing_details_are_named(world, bookable):
    response = book(Client(), bookable, email="", date_of_birth="2030-01-01")
    assert response.status_code == 422
    text = response.content.decode()
    assert "This field is required." in text
    assert "Cannot be in the future." in text


def test_under_16_cannot_book_online(world, bookable):
    today = clock.today()
    response = book(Client(), bookable, date_of_birth=f"{today.year - 14}-01-01")
    assert response.status_code == 422
    assert "aged 16 or over" in response.content.decode()
    assert not Patient.objects.filter(email="iris@example.org").exists()


def test_a_forged_slot_is_refused(world, bookable):
    response = book(Client(), bookable, slot="1|2020-01-01T09:00:00+00:00")
    assert response.status_code == 422
    assert not Patient.objects.filter(email="iris@example.org").exists()


def test_an_unlisted_or_front_desk_member_cannot_be_booked(world, bookable):
    assert Client().get(reverse("portal-book", args=[world.fran.pk])).status_code == 404
    assert Client().get(reverse("portal-book", args=[world.alice.pk])).status_code == 404


def test_the_patient_never_sees_citation_keys(world, bookable):
    from dermis.web.clinic.core_inputs import knowledge

    client = Client()
    book(client, bookable, isotretinoin="now", pregnant="yes", anticoagulants="yes")
    text = client.get(reverse("portal-booked")).content.decode()
    keys = set(knowledge().bibliography) if hasattr(knowledge(), "bibliography") else set()
    for rule in knowledge().contraindications.values():
        keys |= set(rule.sources)
    assert keys
    assert not [k for k in keys if k in text]
