"""Booking an accepted plan's whole series in one step: proposals honour the plan's intervals
and the patient's preferences; booking is all or nothing, with reminders; who may book."""

from __future__ import annotations

import itertools
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dermis.core import patient as cp
from dermis.core.planning import plan as make_plan
from dermis.core.screening import screen
from dermis.web.clinic import core_inputs, safety
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import (
    Appointment,
    AuditEvent,
    Consultation,
    Equipment,
    Reminder,
    Room,
    TreatmentPlan,
    WorkingHours,
)
from dermis.web.clinic.scheduling import series
from dermis.web.clinic.scheduling.booking import Booking, book
from tests import factories


def accepted_plan(
    patient, practitioner, severity: int = 2, concern: str = "acne_scars_rolling"
) -> TreatmentPlan:
    """An accepted plan from the core (rolling acne scars of severity 2: 4 sessions, 28-42 days)."""
    patient.fitzpatrick = "III"
    patient.save()
    kb, today = core_inputs.knowledge(), timezone.localdate()
    who = core_inputs.core_patient(patient, today)
    concern = {"area": "cheeks", "concern": concern, "severity": severity}
    assessment = cp.Assessment.model_validate({"skin_thickness": "normal", "concerns": [concern]})
    found = screen(who, cp.Intake(), kb, today)
    proposal = make_plan(who, assessment, found, kb)
    consultation = Consultation.objects.create(
        patient=patient,
        practitioner=practitioner,
        as_of=today,
        intake=cp.Intake().model_dump(mode="json"),
        assessment=assessment.model_dump(mode="json"),
        screening=found.to_dict(),
        proposal=proposal.to_dict(),
        knowledge_version=kb.version,
        status=Consultation.Status.ACCEPTED,
    )
    return TreatmentPlan.objects.create(
        patient=patient,
        consultation=consultation,
        version=1,
        content=proposal.to_dict(),
        created_by=practitioner.user,
    )


def weekday_hours(staff, start=time(9), end=time(17), days=range(5)) -> None:
    location = staff.clinic.locations.get()
    for day in days:
        WorkingHours.objects.create(
            staff=staff, weekday=day, start=start, end=end, location=location
        )


@pytest.fixture
def plan(world):
    return bookable_plan(world)


def bookable_plan(world) -> TreatmentPlan:
    """Nora's accepted plan with Pat, who works weekdays 9-17 beside a room and a pen."""
    weekday_hours(world.pat)
    location = world.northgate.locations.get()
    Room.objects.create(clinic=world.northgate, location=location, name="Treatment 1")
    Equipment.objects.create(clinic=world.northgate, name="Pen A", device="automated_pen")
    return accepted_plan(world.nora, world.pat)


def _url(plan) -> str:
    return reverse("series-propose", kwargs={"plan_id": plan.pk})


PREFS = {"practitioner": "", "location": "", "weekdays": ["1", "3"], "time_from": "09:00"}


def _prefs(world, **extra) -> dict:
    data = {
        **PREFS,
        "course": "0",
        "practitioner": str(world.pat.pk),
        "location": str(world.northgate.locations.get().pk),
        "time_to": "12:00",
    }
    data.update(extra)
    return data


def _post_data(world, proposal, **extra) -> dict:
    data = _prefs(world, **extra)
    data.update(
        start=[s.slot.start.isoformat() for s in proposal.sessions],
        room=[str(s.slot.room.pk) if s.slot.room else "" for s in proposal.sessions],
        device=[str(s.slot.device.pk) if s.slot.device else "" for s in proposal.sessions],
        book="1",
    )
    return data


def _days(proposal) -> list[int]:
    dates = [s.slot.start.date() for s in proposal.sessions]
    return [(b - a).days for a, b in itertools.pairwise(dates)]


def test_the_proposal_honours_the_plans_intervals_and_the_preferred_days_and_times(
    world, plan, client_as
):
    response = client_as("pat").get(_url(plan), _prefs(world))
    assert response.status_code == 200
    result = response.context["result"]
    proposal = result.proposal
    assert len(proposal.sessions) == 4
    assert all(28 <= gap <= 42 for gap in _days(proposal)), _days(proposal)
    for s in proposal.sessions:
        assert s.slot.start.weekday() in (1, 3)  # Tuesday, Thursday
        assert time(9) <= s.slot.start.time() and s.slot.end.time() <= time(12)
        assert s.slot.end - s.slot.start == timedelta(minutes=60)  # the KB's length
        assert s.slot.room.name == "Treatment 1" and s.slot.device.name == "Pen A"
    assert proposal.honours_preferences
    assert result.alternatives, "alternatives are offered"
    first_days = {a.sessions[0].slot.start.date() for a in result.alternatives}
    assert proposal.sessions[0].slot.start.date() not in first_days
    content = response.content.decode()
    assert "Book these 4 sessions" in content and "Tuesday is a preferred day" in content


def test_a_first_visit_proposes_from_the_patients_saved_preferences(world, plan, client_as):
    world.nora.booking_preferences = {"weekdays": [4], "times": [], "practitioner": world.pat.pk}
    world.nora.save()
    response = client_as("fran").get(_url(plan))
    assert response.status_code == 200
    assert response.context["form"]["weekdays"].value() == ["4"]
    proposal = response.context["result"].proposal
    assert {s.slot.start.weekday() for s in proposal.sessions} == {4}


def test_booking_creates_the_whole_series_with_reminders_in_one_step(world, plan, client_as):
    client = client_as("pat")
    proposal = client.get(_url(plan), _prefs(world)).context["result"].proposal

    response = client.post(_url(plan), _post_data(world, proposal, remember="1"))

    assert response.status_code == 302
    assert response["Location"] == reverse("patient-detail", kwargs={"patient_id": world.nora.pk})
    made = list(Appointment.objects.filter(patient=world.nora).order_by("start"))
    assert len(made) == 4
    assert len({a.series_key for a in made}) == 1 and made[0].series_key is not None
    assert [a.series_index for a in made] == [1, 2, 3, 4]
    assert [a.start for a in made] == [s.slot.start for s in proposal.sessions]
    assert {a.plan_id for a in made} == {plan.pk}
    assert all(a.room and a.equipment and a.location for a in made)
    for a in made:  # nora has an e-mail address and a phone: both channels
        kinds = set(Reminder.objects.filter(appointment=a).values_list("kind", "channel"))
        assert (Reminder.Kind.AFTERCARE_DAY1, "email") in kinds
        assert (Reminder.Kind.AFTERCARE_DAY3, "sms") in kinds
    assert Reminder.objects.filter(key=f"confirm:series:{made[0].series_key}:email").exists()
    created = AuditEvent.objects.filter(action="create", object_type="Appointment")
    assert created.count() == 4
    world.nora.refresh_from_db()
    assert world.nora.booking_preferences["weekdays"] == [1, 3]
    assert world.nora.booking_preferences["times"] == [["09:00", "12:00"]]


def test_a_slot_taken_between_proposal_and_booking_books_nothing(world, plan, client_as):
    client = client_as("pat")
    proposal = client.get(_url(plan), _prefs(world)).context["result"].proposal
    third = proposal.sessions[2].slot
    # Someone else books session 3's time with the same practitioner meanwhile.
    book(world.rhys, Booking(third.start, third.end, world.pat))

    response = client.post(_url(plan), _post_data(world, proposal), follow=False)

    assert response.status_code == 409
    assert not Appointment.objects.filter(patient=world.nora).exists()
    assert not Reminder.objects.filter(patient=world.nora).exists()
    text = response.content.decode()
    assert "Nothing was booked" in text and "session 3" in text
    fresh = response.context["result"].proposal
    assert third.start not in [s.slot.start for s in fresh.sessions]


def test_when_the_database_refuses_the_overlap_nothing_is_written(
    world, plan, client_as, monkeypatch
):
    client = client_as("pat")
    proposal = client.get(_url(plan), _prefs(world)).context["result"].proposal
    second = proposal.sessions[1].slot
    book(world.rhys, Booking(second.start, second.end, world.alice, room=_room(second)))
    # Skip the re-check, as if the other booking committed just after it: the database refuses.
    monkeypatch.setattr(series.slots, "check_series", lambda *args: [])

    response = client.post(_url(plan), _post_data(world, proposal))

    assert response.status_code == 409
    assert "slot taken" in response.content.decode()
    assert not Appointment.objects.filter(patient=world.nora).exists()
    assert not Reminder.objects.filter(patient=world.nora).exists()


def _room(slot):
    return Room.objects.get(pk=slot.room.pk)


def test_a_partly_booked_plan_proposes_only_the_remaining_sessions(world, plan, client_as):
    client = client_as("pat")
    proposal = client.get(_url(plan), _prefs(world)).context["result"].proposal
    first = proposal.sessions[0].slot
    book(world.nora, Booking(first.start, first.end, world.pat), plan=plan)

    response = client.get(_url(plan), _prefs(world))

    setup = response.context["setup"]
    assert (setup.counted, setup.request.sessions) == (1, 3)
    again = response.context["result"].proposal
    gap = (again.sessions[0].slot.start.date() - first.start.date()).days
    assert gap >= 28


def test_a_superseded_or_not_safe_plan_cannot_be_booked(world, plan, client_as):
    client = client_as("pat")
    TreatmentPlan.objects.filter(pk=plan.pk).update(status=TreatmentPlan.Status.SUPERSEDED)
    response = client.get(_url(plan))
    assert response.status_code == 409
    assert "superseded" in response.content.decode()
    proposal_post = client.post(_url(plan), _prefs(world, book="1", start=["x"]))
    assert proposal_post.status_code == 409
    assert not Appointment.objects.exists()

    content = {**plan.content, "status": "not_safe", "courses": []}
    TreatmentPlan.objects.filter(pk=plan.pk).update(status="active", content=content)
    response = client.get(_url(plan))
    assert response.status_code == 409
    assert "no safe treatment" in response.content.decode()


def test_a_practitioner_without_hours_is_named_on_the_form(world, plan, client_as):
    response = client_as("pat").get(_url(plan), _prefs(world, practitioner=str(world.alice.pk)))
    assert response.status_code == 400
    assert "Alice Admin has no working hours" in response.content.decode()
    assert response.context["form"].errors["practitioner"]


def test_a_preference_error_names_the_field(world, plan, client_as):
    response = client_as("pat").get(_url(plan), _prefs(world, time_to="08:00"))
    assert response.status_code == 400
    assert "time_to" in response.context["form"].errors


def test_front_desk_books_but_sees_no_clinical_content(world, plan, client_as):
    client = client_as("fran")
    response = client.get(_url(plan), _prefs(world))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Microneedling" not in text and "acne" not in text.lower()
    assert reverse("plan-detail", kwargs={"pk": plan.pk}) not in text
    proposal = response.context["result"].proposal
    assert client.post(_url(plan), _post_data(world, proposal)).status_code == 302
    assert Appointment.objects.filter(patient=world.nora).count() == 4


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_clinic_gets_404_and_anonymous_the_login_page(world, plan, client_as, method):
    url = _url(plan)
    assert getattr(client_as("oscar"), method)(url).status_code == 404
    anonymous = getattr(client_as("anonymous"), method)(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert getattr(client_as("nobody"), method)(url).status_code == 403
    assert not Appointment.objects.exists()


ATTEMPTS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_series_give_exactly_one_series():
    """Several patients' series posted for the same times at once: one books, the others are
    told the slot is taken (on PostgreSQL some lose through a deadlock the database breaks)."""
    import threading

    from django.db import connection

    from tests.personas import build_world, stored_patient

    world = build_world()
    weekday_hours(world.pat)
    plans = [accepted_plan(world.nora, world.pat)]
    for i in range(ATTEMPTS - 1):
        other = stored_patient(
            clinic=world.northgate, given_name=f"P{i}", family_name="Race",
            date_of_birth=world.nora.date_of_birth, email=f"p{i}@example.org",
        )  # fmt: skip
        plans.append(accepted_plan(other, world.pat))
    now = timezone.now()
    prefs = series.Preferences(world.pat, world.northgate.locations.get())
    setups = [series.setup(p, prefs, now) for p in plans]
    chosen = list(series.propose(setups[0]).proposal.slots)
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def attempt(setup) -> None:
        try:
            barrier.wait(timeout=30)
            series.book(factories.actor(world.fran), setup, chosen, now)
            result = "booked"
        except (ServiceError, series.SeriesChanged):
            result = "taken"
        except Exception as exc:  # reported by the assertion below
            result = f"error: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(s,)) for s in setups]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["booked"] + ["taken"] * (ATTEMPTS - 1), outcomes
    assert Appointment.objects.count() == 4
    assert Reminder.objects.values("appointment__patient").distinct().count() == 1


def test_a_deadlock_the_database_breaks_is_a_lost_race_and_other_errors_are_not(world, monkeypatch):
    """PostgreSQL's exclusion check can deadlock two simultaneous overlapping inserts and fail
    one (SQLSTATE 40P01): that booking lost the slot. Any other database error is not hidden."""
    import psycopg.errors
    from django.db import OperationalError

    from dermis.web.clinic.scheduling.booking import SlotTaken

    def fail(cause):
        def create(**kwargs):
            try:
                raise cause
            except Exception as exc:
                raise OperationalError(str(exc)) from exc

        return create

    start = timezone.now() + timedelta(days=3)
    booking = Booking(start, start + timedelta(hours=1), world.pat)
    monkeypatch.setattr(
        Appointment.objects, "create", fail(psycopg.errors.DeadlockDetected("deadlock detected"))
    )
    with pytest.raises(SlotTaken):
        book(world.nora, booking)
    monkeypatch.setattr(Appointment.objects, "create", fail(RuntimeError("database is locked")))
    with pytest.raises(OperationalError):
        book(world.nora, booking)


def test_the_proposal_reads_the_patients_record_for_the_safety_gate_once(world, plan, client_as):
    """The first safe day and the reason for a later one ask the gate about the same record: it is
    read once (the overrides, the rechecks and the sessions, each one query)."""
    with CaptureQueriesContext(connection) as seen:
        response = client_as("pat").get(_url(plan), _prefs(world))
    assert response.status_code == 200 and response.context["result"].proposal
    sql = [q["sql"] for q in seen.captured_queries]
    for table in ("clinic_safetyoverride", "clinic_screeningrecheck"):
        assert sum(f'FROM "{table}"' in s for s in sql) == 1, table


def test_submitted_preferences_are_not_read_again_from_the_record(world, plan, client_as):
    """A submitted form names its practitioner and location: the saved preferences (the first
    location, the saved practitioner) are read for a first visit only."""
    client = client_as("pat")
    for params, reads in ((_prefs(world), 1), ({}, 2)):
        with CaptureQueriesContext(connection) as seen:
            response = client.get(_url(plan), params)
        assert response.status_code == 200 and response.context["result"].proposal
        sql = [q["sql"] for q in seen.captured_queries]
        assert sum(s.startswith('SELECT "clinic_location"') for s in sql) == reads, params


def test_the_reason_for_a_later_first_day_is_the_same_from_the_context_read_once(world):
    """`why_not` sets pre-care aside whether it reads the record itself or is given the context
    read for the first safe day (with pre-care done)."""
    factories.deferred_by_isotretinoin(world.pat, world.nora)
    today = timezone.localdate()
    read_once = safety.context(world.nora, precare_done=True)
    for day in (today, today + timedelta(days=40), today + timedelta(days=200)):
        alone = safety.why_not(world.nora, "microneedling", ("cheeks",), day)
        given = safety.why_not(world.nora, "microneedling", ("cheeks",), day, ctx=read_once)
        assert given == alone
    assert "isotretinoin" in safety.why_not(world.nora, "microneedling", ("cheeks",), today)
    first = safety.first_safe_day(world.nora, "microneedling", ("cheeks",), today)
    assert first == safety.first_safe_day(
        world.nora, "microneedling", ("cheeks",), today, ctx=safety.context(world.nora)
    )
    assert first is not None and first > today
