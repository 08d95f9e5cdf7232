"""The appointment lifecycle: each step, who may take it, when, and what it records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from dermis.web.clinic import clock
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import Appointment, AuditEvent
from dermis.web.clinic.scheduling import lifecycle, services
from tests import factories

S = Appointment.Status


@pytest.fixture
def booked(world):
    factories.working_hours(world.pat)
    return factories.appointment(
        world.pat, world.nora, factories.next_weekday_at(10, days_ahead=3), by=world.fran
    )


def _at(appointment, minutes=5):
    return clock.frozen_at(appointment.start + timedelta(minutes=minutes))


def test_the_whole_way_booked_to_completed(world, booked):
    desk, pat = factories.actor(world.fran), factories.actor(world.pat)
    services.set_status(desk, booked, S.CONFIRMED)
    with _at(booked, -30):
        services.set_status(desk, booked, S.ARRIVED)
        services.set_status(pat, booked, S.IN_TREATMENT)
    with _at(booked, 50):
        services.set_status(pat, booked, S.COMPLETED)
    booked.refresh_from_db()
    assert booked.status == S.COMPLETED
    summaries = list(
        AuditEvent.objects.filter(object_id=str(booked.pk), summary__startswith="status")
        .order_by("pk")
        .values_list("summary", flat=True)
    )
    assert summaries == [
        "status: booked -> confirmed",
        "status: confirmed -> arrived",
        "status: arrived -> in_treatment",
        "status: in_treatment -> completed",
    ]


@pytest.mark.parametrize("status", [S.IN_TREATMENT, S.COMPLETED])
def test_front_desk_may_not_treat_or_complete(world, booked, status):
    with _at(booked, 30), pytest.raises(ServiceError) as err:
        services.set_status(factories.actor(world.fran), booked, status)
    assert err.value.status == 403
    booked.refresh_from_db()
    assert booked.status == S.BOOKED


def test_who_may_set_each_status_is_stated_once():
    assert lifecycle.SETTERS[S.ARRIVED] == lifecycle.SETTERS[S.NO_SHOW]
    assert "front_desk" in lifecycle.SETTERS[S.CANCELLED]
    assert "front_desk" not in lifecycle.SETTERS[S.COMPLETED]
    assert set(lifecycle.TRANSITIONS) == set(S.values)


def test_not_before_its_time(world, booked):
    desk = factories.actor(world.fran)
    with pytest.raises(ServiceError, match="before its day"):
        services.set_status(desk, booked, S.ARRIVED)
    with pytest.raises(ServiceError, match="not started yet"):
        services.set_status(desk, booked, S.NO_SHOW)
    with _at(booked, -60):  # on the day: check-in is fine, a no-show is not yet
        services.set_status(desk, booked, S.ARRIVED)
        booked.refresh_from_db()
        assert booked.status == S.ARRIVED


def test_steps_that_make_no_sense_are_refused(world, booked):
    desk = factories.actor(world.fran)
    with _at(booked, 10):
        services.set_status(desk, booked, S.NO_SHOW)
        with pytest.raises(ServiceError) as err:
            services.set_status(desk, booked, S.ARRIVED)
    assert err.value.status == 409 and err.value.field == "status"
    # a no-show put back to booked (the patient turned up after all) is one step back
    services.set_status(desk, booked, S.BOOKED)
    booked.refresh_from_db()
    assert booked.status == S.BOOKED


def test_cancelling_needs_a_reason_and_records_who_and_when(world, booked):
    desk = factories.actor(world.fran)
    with pytest.raises(ServiceError) as err:
        services.cancel_appointment(desk, booked, "  ")
    assert err.value.field == "reason"
    services.cancel_appointment(desk, booked, "patient unwell")
    booked.refresh_from_db()
    assert booked.status == S.CANCELLED
    assert booked.cancel_reason == "patient unwell"
    assert booked.cancelled_by == world.fran.user
    assert booked.cancelled_at is not None and not booked.late_cancel
    with pytest.raises(ServiceError) as again:
        services.cancel_appointment(desk, booked, "twice")
    assert again.value.status == 409


def test_a_cancellation_inside_the_notice_period_is_late(world, booked):
    with clock.frozen_at(booked.start - timedelta(hours=23)):
        services.cancel_appointment(factories.actor(world.fran), booked, "forgot")
    booked.refresh_from_db()
    assert booked.late_cancel
    assert AuditEvent.objects.filter(summary__endswith="(late)").exists()


def test_the_notice_period_is_the_clinics(world, booked):
    from dermis.web.clinic.scheduling import setup

    setup.set_cancel_notice(factories.actor(world.alice), 12)
    booked.refresh_from_db()
    with clock.frozen_at(booked.start - timedelta(hours=23)):
        services.cancel_appointment(factories.actor(world.fran), booked, "asked")
    booked.refresh_from_db()
    assert not booked.late_cancel
    with pytest.raises(ServiceError) as err:
        setup.set_cancel_notice(factories.actor(world.fran), 2)
    assert err.value.status == 403


def test_cancel_page_asks_are_you_sure_and_why(world, booked, client_as):
    url = reverse("appointment-cancel", args=[booked.pk])
    page = client_as("fran").get(url).content.decode()
    assert "Are you sure?" in page and "Why is it cancelled?" in page
    refused = client_as("fran").post(url, {"reason": ""})
    assert refused.status_code == 422 and "Give a reason" in refused.content.decode()
    booked.refresh_from_db()
    assert booked.status == S.BOOKED
    done = client_as("fran").post(url, {"reason": "moved away"})
    assert done.status_code == 302
    booked.refresh_from_db()
    assert booked.status == S.CANCELLED and booked.cancel_reason == "moved away"


def test_status_page_refusal_is_shown_not_raised(world, booked, client_as):
    url = reverse("appointment-status", args=[booked.pk])
    response = client_as("fran").post(url, {"status": "no_show"})
    assert response.status_code == 422
    assert "has not started yet" in response.content.decode()
    assert client_as("fran").post(url, {"status": "completed"}).status_code == 403
    booked.refresh_from_db()
    assert booked.status == S.BOOKED


def test_charting_from_the_appointment_moves_it_along(world, client_as):
    factories.working_hours(world.pat)
    plan = factories.accepted_plan(world.pat, world.nora)
    booked = factories.appointment(
        world.pat,
        world.nora,
        factories.next_weekday_at(10, days_ahead=20),
        kind=Appointment.Kind.TREATMENT,
        plan=plan,
        modality="microneedling",
        by=world.fran,
    )
    desk = factories.actor(world.fran)
    with _at(booked, -10):
        services.set_status(desk, booked, S.ARRIVED)
    with _at(booked, 1):
        draft = factories.session(world.pat, world.nora, appointment=booked, plan=plan)
        booked.refresh_from_db()
        assert booked.status == S.IN_TREATMENT
        assert draft.appointment_id == booked.pk
    with _at(booked, 50):
        factories.finalised(world.pat, draft)
    booked.refresh_from_db()
    assert booked.status == S.COMPLETED
    api = client_as("pat").get(reverse("appointment-detail", args=[booked.pk]))
    assert "Completed" in api.content.decode()


def test_past_open_appointments_need_an_outcome(world, booked):
    assert not lifecycle.needs_outcome(booked)
    with clock.frozen_at(booked.end + timedelta(hours=1)):
        assert lifecycle.needs_outcome(booked)
        assert lifecycle.next_steps("front_desk", booked) == [
            S.CONFIRMED,
            S.ARRIVED,
            S.NO_SHOW,
        ]


def test_a_session_charted_without_its_appointment_is_linked_to_that_days(world):
    factories.working_hours(world.pat)
    plan = factories.accepted_plan(world.pat, world.nora)
    booked = factories.appointment(
        world.pat,
        world.nora,
        factories.next_weekday_at(10, days_ahead=20),
        kind=Appointment.Kind.TREATMENT,
        plan=plan,
        modality="microneedling",
    )
    with _at(booked, 5):
        draft = factories.session(world.pat, world.nora, plan=plan, performed_at=booked.start)
    assert draft.appointment_id == booked.pk
    booked.refresh_from_db()
    assert booked.status == S.IN_TREATMENT


def test_the_overlap_triggers_survive_the_lifecycle_migration(db):
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            names = {row[0] for row in cursor.fetchall()}
        assert {
            "clinic_appointment_no_overlap_insert",
            "clinic_appointment_no_overlap_update",
        } <= names
