"""Booking a first consultation from a location's page: the free times of the practitioners
listed there (any of them, or one), then the same booking form, service and safety explanation
as a practitioner's page."""

from __future__ import annotations

from datetime import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.directory.selectors import listed_at
from dermis.web.clinic.models import (
    Appointment,
    Location,
    Patient,
    PortalIntake,
    PortalSettings,
    Role,
    StaffMember,
)
from dermis.web.clinic.portal import services, slots
from dermis.web.clinic.scheduling import setup
from tests import factories
from tests.personas import PASSWORD
from tests.web.portal.portal_kit import ANSWERS, DETAILS, months_ago

ALL_DAY = (time(7), time(21))


@pytest.fixture
def site(world):
    """Headingley: Pat works there Friday to Sunday (Monday to Thursday at Main); Lucy works only
    there, every day."""
    admin = Actor.system(world.northgate)
    main = world.northgate.locations.get()
    headingley = Location.objects.create(
        clinic=world.northgate,
        name="Headingley",
        address="5 Otley Rd",
        town="Leeds",
        postcode="LS6 3AA",
    )
    user = get_user_model().objects.create_user("lucy", password=PASSWORD)
    lucy = StaffMember.objects.create(
        user=user,
        clinic=world.northgate,
        role=Role.PRACTITIONER,
        display_name="Lucy Leeds",
        treatments=["microneedling"],
        listed_in_directory=True,
    )
    lucy.locations.add(headingley)
    setup.set_weekly_hours(
        admin, world.pat, [(d, *ALL_DAY, main if d < 4 else headingley) for d in range(7)]
    )
    setup.set_weekly_hours(admin, lucy, [(d, *ALL_DAY, None) for d in range(7)])
    return {"main": main, "headingley": headingley, "lucy": lucy, "pat": world.pat}


def _offers(site, *who):
    people = [site[w] for w in who] or listed_at(site["headingley"])
    return slots.offers_at(site["headingley"], people, clock.now(), services.CONSULTATION_MINUTES)


def _post(client, location, slot, **changes):
    url = reverse("portal-book-location", args=[location.pk])
    return client.post(url, {**DETAILS, **ANSWERS, "slot": slot, **changes})


def _nothing_written():
    assert not Patient.objects.filter(email="iris@example.org").exists()
    assert not PortalIntake.objects.exists()
    assert not Appointment.objects.exists()


def test_offers_are_at_the_location_across_its_practitioners(world, site):
    offers = _offers(site)
    assert {o.practitioner for o in offers} == {site["pat"], site["lucy"]}
    assert all(o.location == site["headingley"] for o in offers)
    assert all(o.start > clock.now() for o in offers)
    # Pat is at Headingley only from Friday to Sunday.
    assert {
        timezone.localtime(o.start).weekday() for o in offers if o.practitioner == site["pat"]
    } <= {4, 5, 6}
    assert [o.start for o in offers] == sorted(o.start for o in offers)


def test_the_page_offers_any_practitioner_or_one(world, site):
    url = reverse("portal-book-location", args=[site["headingley"].pk])
    anyone = Client().get(url).content.decode()
    assert "Any practitioner" in anyone
    assert "with Lucy Leeds" in anyone and "with Pat Practitioner" in anyone
    only_lucy = Client().get(url, {"practitioner": site["lucy"].pk}).content.decode()
    assert "with Lucy Leeds" in only_lucy and "with Pat Practitioner" not in only_lucy
    unknown = Client().get(url, {"practitioner": world.oscar.pk})
    assert unknown.status_code == 200
    text = unknown.content.decode()
    assert 'class="errorlist"' in text and "with Lucy Leeds" in text


def test_a_new_patient_books_at_the_location(world, site):
    offer = _offers(site, "lucy")[0]
    client = Client()
    response = _post(client, site["headingley"], offer.value)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == reverse("portal-booked")
    appointment = Patient.objects.get(email="iris@example.org").appointments.get()
    assert appointment.location == site["headingley"]
    assert appointment.practitioner == site["lucy"]
    assert appointment.kind == Appointment.Kind.CONSULTATION
    assert appointment.start == offer.start
    page = client.get(response["Location"]).content.decode()
    assert "Your consultation is booked" in page


def test_the_safety_explanation_still_shows(world, site):
    offer = _offers(site, "pat")[0]
    client = Client()
    response = _post(
        client,
        site["headingley"],
        offer.value,
        isotretinoin="past",
        isotretinoin_last_dose=months_ago(2),
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "We can't offer microneedling before" in page
    assert "You can still book a consultation" in page
    assert Appointment.objects.get().location == site["headingley"]


def test_a_taken_slot_is_a_clear_error_and_writes_nothing(world, site):
    offer = _offers(site, "lucy")[0]
    taken = factories.appointment(site["lucy"], world.nora, offer.start, minutes=30)
    response = _post(Client(), site["headingley"], offer.value)
    assert response.status_code == 422
    text = response.content.decode()
    assert 'id="id_slot_error"' in text
    assert "That time is no longer free: choose one of the times shown." in text
    assert not Patient.objects.filter(email="iris@example.org").exists()
    assert not PortalIntake.objects.exists()
    assert list(Appointment.objects.all()) == [taken]


def test_a_slot_elsewhere_or_of_someone_else_is_refused(world, site):
    pat_at_main = slots.offers(site["pat"], clock.now(), services.CONSULTATION_MINUTES)
    elsewhere = next(o for o in pat_at_main if o.location == site["main"])
    lucy = _offers(site, "lucy")[0]
    forged = [
        f"{site['pat'].pk}|{elsewhere.value}",  # Pat's time at Main
        lucy.value.replace(f"{site['lucy'].pk}|", f"{world.oscar.pk}|", 1),  # another clinic's
        lucy.value.replace(f"{site['lucy'].pk}|", f"{world.alice.pk}|", 1),  # not listed
        lucy.value.split("|", 1)[1],  # no practitioner
    ]
    for value in forged:
        response = _post(Client(), site["headingley"], value)
        assert response.status_code == 422, value
        _nothing_written()


def test_hidden_locations_cannot_be_booked(world, site):
    harrogate = Location.objects.create(
        clinic=world.riverside,
        name="Harrogate",
        address="9 Parliament St",
        town="Harrogate",
        postcode="HG1 2QU",
    )
    world.oscar.locations.add(world.riverside.locations.get(name="Main"))
    for pk in (harrogate.pk, 10_000):
        assert Client().get(reverse("portal-book-location", args=[pk])).status_code == 404
    PortalSettings.objects.create(clinic=world.northgate, enabled=False)
    url = reverse("portal-book-location", args=[site["headingley"].pk])
    assert Client().get(url).status_code == 404
    offer = _offers(site, "lucy")[0]
    assert _post(Client(), site["headingley"], offer.value).status_code == 404
    _nothing_written()


def test_no_patient_data_on_the_booking_page(world, site):
    factories.appointment(site["lucy"], world.nora, _offers(site, "lucy")[0].start, minutes=30)
    html = (
        Client().get(reverse("portal-book-location", args=[site["headingley"].pk])).content.decode()
    )
    for secret in ("Nora", "Quinn", "07700 900123", "nora@example.org"):
        assert secret not in html
