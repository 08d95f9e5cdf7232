"""Location pages of the public directory: which places have one, who is listed there, their
opening hours and closures; no login, no patient data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from dermis.web.clinic import clock
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.directory.selectors import (
    listed_at,
    location_page,
    public_location,
    public_location_ids,
)
from dermis.web.clinic.models import Location, PortalSettings, Role, StaffMember
from dermis.web.clinic.scheduling import setup
from tests.personas import PASSWORD

DECEMBER_1 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _staff(world, username, role, name, **extra):
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    return StaffMember.objects.create(
        user=user, clinic=world.northgate, role=role, display_name=name, **extra
    )


@pytest.fixture
def places(world):
    """Northgate: Main and Headingley (Lucy works only there; listed front desk, unlisted and
    deactivated staff too); Riverside: Main (Oscar) and Harrogate, where nobody listed works."""
    main = world.northgate.locations.get()
    headingley = Location.objects.create(
        clinic=world.northgate,
        name="Headingley",
        address="5 Otley Rd",
        town="Leeds",
        postcode="LS6 3AA",
    )
    lucy = _staff(
        world,
        "lucy",
        Role.PRACTITIONER,
        "Lucy Leeds",
        treatments=["microdermabrasion"],
        listed_in_directory=True,
    )
    lucy.locations.add(headingley)
    fred = _staff(world, "fred", Role.FRONT_DESK, "Fred Frontdesk", listed_in_directory=True)
    una = _staff(world, "una", Role.PRACTITIONER, "Una Unlisted")
    gina = _staff(world, "gina", Role.PRACTITIONER, "Gina Gone", listed_in_directory=True)
    gina.user.is_active = False
    gina.user.save()
    for member in (fred, una, gina):
        member.locations.add(headingley)
    river_main = world.riverside.locations.get()
    world.oscar.locations.add(river_main)
    harrogate = Location.objects.create(
        clinic=world.riverside,
        name="Harrogate",
        address="9 Parliament St",
        town="Harrogate",
        postcode="HG1 2QU",
    )
    return {
        "main": main,
        "headingley": headingley,
        "lucy": lucy,
        "river_main": river_main,
        "harrogate": harrogate,
    }


def _names(people) -> set[str]:
    return {p.display_name for p in people}


def test_only_listed_active_clinical_staff_who_work_there(world, places):
    # Pat has no locations of her own: she works at all of Northgate's.
    assert _names(listed_at(places["headingley"])) == {"Pat Practitioner", "Lucy Leeds"}
    assert _names(listed_at(places["main"])) == {"Pat Practitioner"}
    assert _names(listed_at(places["river_main"])) == {"Oscar Other"}


def test_which_locations_have_a_page(world, places):
    expected = {places["main"].pk, places["headingley"].pk, places["river_main"].pk}
    assert public_location_ids() == expected
    assert public_location(places["harrogate"].pk) is None
    assert public_location(places["headingley"].pk) == places["headingley"]
    assert public_location(10_000) is None


def test_a_location_of_a_clinic_with_the_portal_off_is_hidden(world, places):
    PortalSettings.objects.create(clinic=world.northgate, enabled=False)
    assert public_location_ids() == {places["river_main"].pk}
    for place in ("main", "headingley"):
        url = reverse("directory-location", args=[places[place].pk])
        assert Client().get(url).status_code == 404
    html = Client().get(reverse("directory")).content.decode()
    assert "/directory/locations/" + str(places["river_main"].pk) in html
    assert f"/directory/locations/{places['main'].pk}/" not in html


@pytest.mark.parametrize("who", ["anonymous", "pat", "oscar", "nora"])
def test_hidden_or_unknown_locations_are_not_found(world, places, client_as, who):
    client = client_as(who)
    for pk in (places["harrogate"].pk, 10_000):
        assert client.get(reverse("directory-location", args=[pk])).status_code == 404


def test_the_page_shows_the_place_its_people_and_treatments(world, places):
    world.northgate.phone = "0113 496 0000"
    world.northgate.save()
    url = reverse("directory-location", args=[places["headingley"].pk])
    response = Client().get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for shown in (
        "Northgate Skin Clinic",
        "Headingley",
        "5 Otley Rd",
        "LS6 3AA",
        "0113 496 0000",
        "Pat Practitioner",
        "Lucy Leeds",
        "Microneedling",
        "Microdermabrasion",
        reverse("portal-book-location", args=[places["headingley"].pk]),
        f"?practitioner={places['lucy'].pk}",
        'itemtype="https://schema.org/MedicalClinic"',
    ):
        assert shown in html, shown
    for hidden in ("Fred Frontdesk", "Una Unlisted", "Gina Gone", "Oscar Other", "Fran Desk"):
        assert hidden not in html
    oscar = Client().get(reverse("directory-location", args=[places["river_main"].pk]))
    text = oscar.content.decode()
    assert "Microneedling" in text and "Microdermabrasion" not in text


def test_opening_hours_are_the_practitioners_hours_there(world, places):
    admin = Actor.system(world.northgate)
    headingley = places["headingley"]
    # Monday: Pat 09-13 and Lucy 12-17 there make one opening; Lucy's Tuesday is elsewhere.
    setup.set_weekly_hours(admin, world.pat, [(0, time(9), time(13), headingley)])
    setup.set_weekly_hours(
        admin,
        places["lucy"],
        [(0, time(12), time(17), None), (1, time(10), time(12), places["main"])],
    )
    page = location_page(headingley.pk, clock.today())
    assert page is not None
    assert [(o.day, o.spans) for o in page.opening] == [("Monday", ((time(9), time(17)),))]
    html = Client().get(reverse("directory-location", args=[headingley.pk])).content.decode()
    assert "09:00 to 17:00" in html
    assert "Tuesday" not in html
    assert "Closed on other days." in html
    assert 'content="Mo 09:00-17:00"' in html


def test_closures_and_public_holidays_coming_up(world, places):
    admin = Actor.system(world.northgate)
    headingley = places["headingley"]
    setup.set_holiday_region(admin, headingley, "GB", "ENG")
    setup.add_closure(admin, date(2026, 12, 10), location=headingley, reason="Staff training")
    setup.add_closure(admin, date(2026, 12, 11), location=places["main"], reason="Main only")
    setup.add_closure(admin, date(2026, 12, 12))
    setup.add_closure(admin, date(2026, 11, 30), reason="Already past")
    with clock.frozen_at(DECEMBER_1):
        html = Client().get(reverse("directory-location", args=[headingley.pk])).content.decode()
    assert "Thursday 10 December 2026: Staff training" in html
    assert "Saturday 12 December 2026: the clinic is closed" in html
    assert "Friday 25 December 2026: Christmas Day" in html
    assert "Main only" not in html and "Already past" not in html


def test_directory_and_practitioner_pages_link_their_places(world, places):
    html = Client().get(reverse("directory")).content.decode()
    for place in ("main", "headingley", "river_main"):
        assert reverse("directory-location", args=[places[place].pk]) in html
    assert reverse("directory-location", args=[places["harrogate"].pk]) not in html
    page = Client().get(reverse("directory-practitioner", args=[places["lucy"].pk]))
    assert reverse("directory-location", args=[places["headingley"].pk]) in page.content.decode()


def test_no_patient_data_and_read_only(world, places):
    for place in ("main", "headingley"):
        url = reverse("directory-location", args=[places[place].pk])
        html = Client().get(url).content.decode()
        for secret in ("Nora", "Quinn", "Rhys", "Owen", "07700 900123", "nora@example.org"):
            assert secret not in html, (url, secret)
        assert "<script" not in html.replace('<script src="', "")
        assert Client().post(url).status_code == 405
