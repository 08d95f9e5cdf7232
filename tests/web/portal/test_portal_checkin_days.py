"""The clinic's check-in days: the portal's prompt and the check-in messages follow them."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.models import Appointment, Equipment, Reminder
from dermis.web.clinic.portal.settings_services import update_portal_settings
from dermis.web.clinic.reminders import delivery
from dermis.web.clinic.reminders import services as reminders
from dermis.web.clinic.reminders.services import at_clinic_time
from dermis.web.clinic.scheduling.booking import Booking, book
from tests import factories
from tests.conftest import portal_client
from tests.web.portal.portal_kit import treated_yesterday

Kind, Channel, Status = Reminder.Kind, Reminder.Channel, Reminder.Status
PROMPT = "Please tell us how your skin is today."


def choose(world, days: str) -> None:
    update_portal_settings(
        factories.actor(world.alice), enabled=True, out_of_hours_advice="", checkin_days=days
    )


@pytest.fixture
def treated(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return treated_yesterday(world)


def page_on_day(world, session, day: int) -> str:
    """The aftercare page as the patient sees it `day` days after the session."""
    with clock.frozen_at(timezone.now() + timedelta(days=day - 1)):
        response = portal_client(world.nora).get(reverse("portal-aftercare", args=[session.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert f"Day {day} after your treatment." in text
    return text


def test_by_default_the_portal_asks_on_days_1_and_3_only(world, treated):
    assert PROMPT in page_on_day(world, treated, 1)
    assert PROMPT in page_on_day(world, treated, 3)
    assert PROMPT not in page_on_day(world, treated, 7)


def test_the_portal_asks_on_the_days_the_clinic_chose(world, treated):
    choose(world, "1, 7")
    assert PROMPT in page_on_day(world, treated, 7)
    assert PROMPT in page_on_day(world, treated, 1)
    day3 = page_on_day(world, treated, 3)
    assert PROMPT not in day3
    assert "You can tell us how your skin is at any time in the first two weeks." in day3


@pytest.fixture
def nora(world):
    world.nora.fitzpatrick = "II"
    world.nora.save()
    return world.nora


def _treatment(world, days: int = 10) -> Appointment:
    pen = Equipment.objects.create(clinic=world.northgate, name="Pen", device="automated_pen")
    start = at_clinic_time(timezone.localdate() + timedelta(days=days), time(14))
    where = world.northgate.locations.get()
    return book(
        world.nora,
        Booking(start, start + timedelta(hours=1), world.pat, equipment=pen, location=where),
    )


def test_check_in_messages_are_planned_on_the_clinics_days(world, nora):
    choose(world, "1, 7, 10")
    appt = _treatment(world)
    reminders.plan_for_appointment(appt)
    day = timezone.localdate(appt.start)
    rows = Reminder.objects.filter(appointment=appt, channel=Channel.EMAIL)
    check_ins = {r.key.split(":")[2]: r for r in rows if r.kind in reminders.CHECK_IN_KINDS}
    assert sorted(check_ins) == ["aftercare_day1", "aftercare_day10", "aftercare_day7"]
    assert check_ins["aftercare_day1"].kind == Kind.AFTERCARE_DAY1
    assert check_ins["aftercare_day7"].kind == Kind.AFTERCARE_DAY
    assert check_ins["aftercare_day7"].due_at == at_clinic_time(day + timedelta(days=7))
    assert check_ins["aftercare_day10"].due_at == at_clinic_time(day + timedelta(days=10))
    # planning again changes nothing
    before = sorted(Reminder.objects.filter(appointment=appt).values_list("key", "due_at"))
    reminders.plan_for_appointment(appt)
    assert sorted(Reminder.objects.filter(appointment=appt).values_list("key", "due_at")) == before


def _due_now(row: Reminder) -> None:
    due = timezone.now() - timedelta(minutes=1)
    Reminder.objects.filter(pk=row.pk).update(due_at=due, next_try_at=due)


def test_a_chosen_day_message_asks_for_that_days_check_in(world, nora):
    choose(world, "1, 7")
    appt = _treatment(world)
    reminders.plan_for_appointment(appt)
    row = Reminder.objects.get(appointment=appt, key__contains=":aftercare_day7:email")
    _due_now(row)
    assert delivery.deliver(row.pk) == "sent"
    (message,) = mail.outbox
    assert message.subject == "Northgate Skin Clinic: checking in after your treatment"
    assert "It is day 7 after your treatment" in message.body


def test_a_day_the_clinic_no_longer_asks_on_is_not_sent(world, nora):
    appt = _treatment(world)
    reminders.plan_for_appointment(appt)
    day3 = Reminder.objects.get(appointment=appt, kind=Kind.AFTERCARE_DAY3, channel=Channel.EMAIL)
    day1 = Reminder.objects.get(appointment=appt, kind=Kind.AFTERCARE_DAY1, channel=Channel.EMAIL)
    choose(world, "1, 7")
    _due_now(day3)
    _due_now(day1)
    assert delivery.deliver(day3.pk) == Status.CANCELLED
    day3.refresh_from_db()
    assert day3.last_error == "the clinic no longer asks for a check-in on that day"
    assert delivery.deliver(day1.pk) == "sent"
    assert len(mail.outbox) == 1 and "It is day 1 after your treatment" in mail.outbox[0].body
