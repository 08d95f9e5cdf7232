"""Closures: public holidays of a location's country and region, and the clinic's own closure
days, kept by the booking rules and every slot search, set on the admin's closures page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse

from dermis.core.slots import Slot
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import ClosureDay
from dermis.web.clinic.scheduling import availability, closures, services, setup
from tests import factories

CHRISTMAS = date(2027, 12, 27)  # the Christmas Day substitute bank holiday in England (a Monday)


@pytest.fixture
def place(world):
    factories.working_hours(world.pat)
    location = world.northgate.locations.first()
    setup.set_holiday_region(factories.actor(world.alice), location, "gb", "eng")
    return location


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=availability.clinic_zone())


def test_public_holidays_of_the_region(place):
    days = closures.closed_days(place.clinic_id, place, date(2027, 12, 20), date(2027, 12, 31))
    assert CHRISTMAS in days and date(2027, 12, 28) in days
    assert date(2027, 12, 29) not in days


def test_a_bank_holiday_cannot_be_booked(world, place):
    with pytest.raises(ServiceError) as err:
        services.book_appointment(
            factories.actor(world.fran),
            world.nora,
            practitioner=world.pat,
            start=_at(CHRISTMAS, 10),
            end=_at(CHRISTMAS, 11),
            kind="consultation",
            location=place,
        )
    assert err.value.field == "start" and "closed" in err.value.message
    # the day after the holidays books
    services.book_appointment(
        factories.actor(world.fran),
        world.nora,
        practitioner=world.pat,
        start=_at(CHRISTMAS + timedelta(days=2), 10),
        end=_at(CHRISTMAS + timedelta(days=2), 11),
        kind="consultation",
        location=place,
    )


def test_slot_searches_skip_closed_days(world, place):
    setup.add_closure(factories.actor(world.alice), date(2027, 12, 29), reason="stock take")
    start, end = availability.window_for(date(2027, 12, 27), date(2027, 12, 30))
    calendar = availability.build([world.pat], start, end, location=place)
    who = availability.resource(world.pat)

    def free(day: date) -> bool:
        return calendar.is_free(Slot(_at(day, 10), _at(day, 11), who))

    assert not free(CHRISTMAS) and not free(date(2027, 12, 28))
    assert not free(date(2027, 12, 29))  # the clinic's own closure
    assert free(date(2027, 12, 30))


def test_a_location_closure_leaves_other_searches_alone(world, place):
    setup.add_closure(factories.actor(world.alice), date(2027, 11, 3), location=place)
    assert closures.closed_days(world.northgate.pk, place, date(2027, 11, 3), date(2027, 11, 3))
    assert not closures.closed_days(world.northgate.pk, None, date(2027, 11, 3), date(2027, 11, 3))


def test_region_must_be_known(world, place):
    with pytest.raises(ServiceError) as err:
        setup.set_holiday_region(factories.actor(world.alice), place, "XX")
    assert err.value.field == "country"
    with pytest.raises(ServiceError) as err:
        setup.set_holiday_region(factories.actor(world.alice), place, "GB", "ZZZ")
    assert err.value.field == "subdivision"
    with pytest.raises(ServiceError) as err:
        setup.set_holiday_region(factories.actor(world.fran), place, "GB")
    assert err.value.status == 403


def test_closures_page(world, place, client_as):
    url = reverse("closures")
    page = client_as("alice").get(url).content.decode()
    assert "Boxing Day" in page or "Christmas" in page or "Next:" in page
    made = client_as("alice").post(url, {"action": "add", "day": "2027-06-01", "reason": "floods"})
    assert made.status_code == 302
    closure = ClosureDay.objects.get(clinic=world.northgate)
    assert closure.reason == "floods" and closure.location is None
    bad = client_as("alice").post(
        url, {"action": "region", "location": place.pk, f"loc{place.pk}-country": "QQ"}
    )
    assert bad.status_code == 422 and "not a country code" in bad.content.decode()
    gone = client_as("alice").post(url, {"action": "remove", "closure": closure.pk})
    assert gone.status_code == 302 and not ClosureDay.objects.exists()
    assert client_as("fran").get(url).status_code == 403
