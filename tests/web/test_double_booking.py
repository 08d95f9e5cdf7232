"""The database refuses overlapping bookings, including under concurrent attempts."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction

from dermis.web.clinic.models import Appointment, Equipment, Room
from dermis.web.clinic.scheduling.booking import Booking, SlotTaken, book, book_series, move

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=LONDON)
HOUR = timedelta(hours=1)


def test_overlap_for_the_same_practitioner_is_refused(world):
    book(world.nora, Booking(T0, T0 + HOUR, world.pat))
    with pytest.raises(SlotTaken):
        book(world.nora, Booking(T0 + HOUR / 2, T0 + 2 * HOUR, world.pat))
    assert Appointment.objects.count() == 1


def test_back_to_back_and_other_practitioners_are_fine(world):
    book(world.nora, Booking(T0, T0 + HOUR, world.pat))
    book(world.nora, Booking(T0 + HOUR, T0 + 2 * HOUR, world.pat))  # half-open: touching is ok
    book(world.nora, Booking(T0, T0 + HOUR, world.alice))
    assert Appointment.objects.count() == 3


def test_a_room_and_a_device_are_in_one_appointment_at_a_time(world):
    location = world.northgate.locations.get()
    room = Room.objects.create(clinic=world.northgate, location=location, name="Room 1")
    pen = Equipment.objects.create(clinic=world.northgate, name="Pen A", device="automated_pen")
    book(world.nora, Booking(T0, T0 + HOUR, world.pat, room=room, equipment=pen))
    with pytest.raises(SlotTaken):
        book(world.nora, Booking(T0, T0 + HOUR, world.alice, room=room))
    with pytest.raises(SlotTaken):
        book(world.nora, Booking(T0, T0 + HOUR, world.alice, equipment=pen))
    book(world.nora, Booking(T0, T0 + HOUR, world.alice))  # no shared resource
    assert Appointment.objects.count() == 2


def test_a_cancelled_appointment_frees_its_slot(world):
    first = book(world.nora, Booking(T0, T0 + HOUR, world.pat))
    Appointment.objects.filter(pk=first.pk).update(status=Appointment.Status.CANCELLED)
    book(world.nora, Booking(T0, T0 + HOUR, world.pat))
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED).count() == 1


def test_a_series_is_booked_whole_or_not_at_all(world):
    book(world.rhys, Booking(T0 + timedelta(days=28), T0 + timedelta(days=28) + HOUR, world.pat))
    series = [Booking(T0 + timedelta(days=28 * i), T0 + timedelta(days=28 * i) + HOUR, world.pat)
              for i in range(4)]  # fmt: skip
    with pytest.raises(SlotTaken) as caught:
        book_series(world.nora, series)
    assert caught.value.index == 2
    assert not Appointment.objects.filter(patient=world.nora).exists()
    series[1] = Booking(series[1].start + 2 * HOUR, series[1].end + 2 * HOUR, world.pat)
    made = book_series(world.nora, series)
    assert [a.series_index for a in made] == [1, 2, 3, 4]
    assert len({a.series_key for a in made}) == 1


def test_moving_onto_a_taken_slot_leaves_the_appointment_where_it_was(world):
    a = book(world.nora, Booking(T0, T0 + HOUR, world.pat))
    book(world.nora, Booking(T0 + 2 * HOUR, T0 + 3 * HOUR, world.pat))
    with pytest.raises(SlotTaken):
        move(a, T0 + 2 * HOUR, T0 + 3 * HOUR)
    a.refresh_from_db()
    assert a.start == T0


def test_the_database_itself_refuses_an_overlap_that_skips_the_booking_code(world):
    Appointment.objects.create(
        clinic=world.northgate, patient=world.nora, practitioner=world.pat, start=T0, end=T0 + HOUR
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            clinic=world.northgate,
            patient=world.nora,
            practitioner=world.pat,
            start=T0 + HOUR / 4,
            end=T0 + HOUR,
        )


ATTEMPTS = 24


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_at_one_slot_give_exactly_one_booking():
    from tests.personas import build_world

    world = build_world()
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait(timeout=30)
            book(world.nora, Booking(T0, T0 + HOUR, world.pat))
            result = "booked"
        except SlotTaken as exc:
            result = f"taken: {exc}"
        except Exception as exc:  # the test reports anything else as a failure below
            result = f"error: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == ATTEMPTS
    assert outcomes.count("booked") == 1, outcomes
    assert all(o.startswith("taken: ") and "slot taken" in o for o in outcomes if o != "booked")
    assert Appointment.objects.filter(practitioner=world.pat).count() == 1
