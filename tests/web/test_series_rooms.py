"""A series proposal reads the busy times of the rooms a session could be in, not every room of
the clinic: the chosen location's, else those where the practitioner works."""

from __future__ import annotations

from datetime import time

from django.utils import timezone

from dermis.web.clinic.models import Room, WorkingHours
from dermis.web.clinic.scheduling import availability, series
from tests import factories
from tests.web.test_series_booking import accepted_plan


def _second_location(world) -> tuple[Room, Room]:
    here = world.northgate.locations.get()
    there = factories.location(
        world.alice, "Harbour", address="2 Quay", town="Whitby", postcode="YO21"
    )
    return (
        Room.objects.create(clinic=world.northgate, location=here, name="Room here"),
        Room.objects.create(clinic=world.northgate, location=there, name="Room there"),
    )


def _hours(staff, location) -> None:
    for day in range(5):
        WorkingHours.objects.create(
            staff=staff, weekday=day, start=time(9), end=time(17), location=location
        )


def test_only_the_rooms_where_the_practitioner_works(world):
    here_room, there_room = _second_location(world)
    _hours(world.pat, here_room.location)
    assert series.usable_rooms(world.northgate, world.pat, None) == (here_room,)
    assert series.usable_rooms(world.northgate, world.pat, there_room.location) == (there_room,)


def test_hours_without_a_location_make_every_room_usable(world):
    here_room, there_room = _second_location(world)
    _hours(world.pat, None)
    rooms = series.usable_rooms(world.northgate, world.pat, None)
    assert set(rooms) == {here_room, there_room}


def test_the_proposal_reads_only_usable_rooms_busy_times(world, monkeypatch):
    here_room, _elsewhere = _second_location(world)
    _hours(world.pat, here_room.location)
    plan = accepted_plan(world.nora, world.pat)
    setup = series.setup(plan, series.Preferences(world.pat, None), timezone.now())
    asked: list = []
    build = availability.build

    def spy(*args, **kwargs):
        asked.append(tuple(kwargs["rooms"]))
        return build(*args, **kwargs)

    monkeypatch.setattr(availability, "build", spy)
    result = series.propose(setup)
    assert asked == [(here_room,)]
    assert result.ok and {s.slot.room for s in result.proposal.sessions} == {
        availability.resource(here_room)
    }
