"""The recall worklist: maintenance ordered by the forecast's "falls below noticeable" day (the
knowledge base's cadence where there is none), incomplete series, overdue follow-ups; one-click
booking; clinical roles only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic import clock
from dermis.web.clinic.models import (
    Appointment,
    AuditEvent,
    Patient,
    Reminder,
    SessionArea,
    TreatmentPlan,
    TreatmentSession,
)
from dermis.web.clinic.outcomes import forecasting
from dermis.web.clinic.scheduling import due_dates, recall, recall_list
from dermis.web.clinic.scheduling.booking import Booking, book
from tests.personas import stored_patient
from tests.web.test_series_booking import accepted_plan, weekday_hours

URL = "/recall/"
CADENCE_DAYS = 180  # microneedling scars and the default protocol: maintenance every 180-365 days


def _patient(world, given: str) -> Patient:
    return stored_patient(
        clinic=world.northgate,
        given_name=given,
        family_name="Example",
        date_of_birth=timezone.localdate().replace(year=1980),
        email=f"{given.lower()}@example.org",
        fitzpatrick="III",
    )


def _treated(patient, practitioner, last_day, sessions: int, plan=None, interval: int = 28):
    """Signed microneedling sessions on the cheeks, the last one on `last_day`."""
    for k in range(sessions):
        day = last_day - timedelta(days=interval * (sessions - 1 - k))
        s = TreatmentSession.objects.create(
            patient=patient,
            plan=plan,
            practitioner=practitioner,
            performed_at=timezone.make_aware(datetime.combine(day, time(10))),
            modality="microneedling",
            device="automated_pen",
        )
        SessionArea.objects.create(session=s, area="cheeks", depth_mm=1.0)
        # Signed as the charting pages would leave it (a signed session's areas are locked).
        TreatmentSession.objects.filter(pk=s.pk).update(status=TreatmentSession.Status.FINAL)
    if plan is not None:
        _starts_on(plan, last_day - timedelta(days=interval * (sessions - 1)))
    due_dates.refresh(patient)  # the rows above were written directly, not by the services


def _starts_on(plan, day) -> None:
    """The plan's courses start by `day`: a session before its course's start is not counted
    for it (dermis.core.progress), and this history is written after the plan."""
    plan.refresh_from_db()
    content = plan.content
    for c in content["courses"]:
        c["earliest_start"] = min(date.fromisoformat(c["earliest_start"]), day).isoformat()
    TreatmentPlan.objects.filter(pk=plan.pk).update(content=content)


def forecast_patient(world, due_in: int) -> tuple[Patient, object]:
    """Fine lines, treated as planned: the forecast says when the typical result stops being
    noticeable. The series is placed so that this day is about `due_in` days from today."""
    patient = _patient(world, "Fiona")
    plan = accepted_plan(patient, world.pat, severity=1, concern="fine_lines")
    course = plan.content["courses"][0]
    today = timezone.localdate()
    _treated(patient, world.pat, today, course["sessions"], plan)
    lasts = (forecasting.below_noticeable_on(patient, today) - today).days
    shift = timedelta(days=lasts - due_in)
    for s in patient.sessions.all():
        TreatmentSession.objects.filter(pk=s.pk).update(performed_at=s.performed_at - shift)
    _starts_on(plan, today - shift - timedelta(days=28 * (course["sessions"] - 1)))
    due_dates.refresh(patient)
    return patient, forecasting.below_noticeable_on(patient, today)


@pytest.fixture
def due(world):
    """Fiona (forecast), Bea (cadence: a plan whose typical result never reaches noticeable, so
    the forecast gives no date), Cal (cadence, no plan): due five days either side of Fiona's
    forecast date."""
    weekday_hours(world.pat)
    fiona, fiona_due = forecast_patient(world, due_in=20)
    today = timezone.localdate()
    assert fiona_due is not None and today < fiona_due < today + timedelta(days=50)
    bea = _patient(world, "Bea")
    plan = accepted_plan(bea, world.pat, severity=1, concern="acne_scars_icepick")
    sessions = plan.content["courses"][0]["sessions"]
    bea_last = fiona_due - timedelta(days=CADENCE_DAYS + 5)
    _treated(bea, world.pat, bea_last, sessions, plan)
    assert forecasting.below_noticeable_on(bea, today) is None
    cal = _patient(world, "Cal")
    _treated(cal, world.pat, fiona_due - timedelta(days=CADENCE_DAYS - 5), 1)
    return {"fiona": (fiona, fiona_due), "bea": bea, "cal": cal}


def test_maintenance_is_ordered_by_forecast_date_where_there_is_one_else_cadence(
    world, due, client_as
):
    response = client_as("pat").get(URL)
    assert response.status_code == 200
    rows = response.context["maintenance"]
    fiona, fiona_due = due["fiona"]
    assert [r.patient.given_name for r in rows] == ["Bea", "Fiona", "Cal"]
    by_name = {r.patient.given_name: r for r in rows}
    assert (by_name["Fiona"].basis, by_name["Fiona"].due) == ("forecast", fiona_due)
    # Fiona's date is the forecast's, not the fixed cadence's.
    fiona_last = timezone.localtime(by_name["Fiona"].last_session.performed_at).date()
    assert fiona_last + timedelta(days=CADENCE_DAYS) != fiona_due
    assert by_name["Bea"].basis == "cadence"
    assert by_name["Bea"].due == fiona_due - timedelta(days=5)
    assert by_name["Cal"].due == fiona_due + timedelta(days=5)
    assert "knowledge base" in by_name["Cal"].why
    text = response.content.decode()
    assert text.index("Bea Example") < text.index("Fiona Example") < text.index("Cal Example")
    assert reverse("patient-forecast", kwargs={"patient_id": fiona.pk}) in text
    assert rows[1].spark["points"]  # Fiona's sparkline
    (seen,) = AuditEvent.objects.filter(action="view", summary__startswith="recall worklist")
    assert set(seen.patient_ids()) >= {fiona.pk, due["bea"].pk, due["cal"].pk}
    assert seen.summary == f"recall worklist, {len(seen.patient_ids())} patients"


def test_the_forecast_chart_link_works_and_is_only_offered_where_there_is_a_forecast(
    world, due, client_as
):
    """The link used to point every row at the chart, which is a 404 for a patient without a
    forecast (Cal: no active plan). Now a row links to a chart only when one exists."""
    fiona, _ = due["fiona"]
    client = client_as("pat")
    text = client.get(URL).content.decode()
    for patient in (fiona, due["bea"]):
        url = reverse("patient-forecast", kwargs={"patient_id": patient.pk})
        assert url in text
        chart = client.get(url)
        assert chart.status_code == 200 and chart["Content-Type"] == "image/svg+xml"
    cal_url = reverse("patient-forecast", kwargs={"patient_id": due["cal"].pk})
    assert cal_url not in text
    assert "No forecast: there is no active treatment plan yet." in text


def test_a_patient_with_a_booking_ahead_or_a_series_running_is_not_due(world, due):
    today, now = timezone.localdate(), timezone.now()
    cal = due["cal"]
    start = now + timedelta(days=3)
    book(cal, Booking(start, start + timedelta(hours=1), world.alice))
    assert recall.maintenance_for(cal, today, now) is None
    due_dates.refresh(cal)  # booked directly above, not through the services
    stored = recall_list.worklist(world.northgate, today, now)
    assert cal not in [r.patient for r in stored.maintenance]
    # Once that appointment's time has passed with nobody marking it, Cal is due again.
    later = start + timedelta(hours=2)
    assert cal in [r.patient for r in recall_list.maintenance(world.northgate, today, later)]
    plan = accepted_plan(world.nora, world.pat)
    _treated(world.nora, world.pat, today - timedelta(days=400), 2, plan)  # 2 of 4 sessions
    assert recall.maintenance_for(world.nora, today, now) is None
    work = recall.worklist(world.northgate, today, now)
    assert [(r.patient, r.counted, r.planned) for r in work.incomplete] == [(world.nora, 2, 4)]
    stored = recall_list.worklist(world.northgate, today, now)
    assert [(r.patient, r.counted, r.planned) for r in stored.incomplete] == [(world.nora, 2, 4)]


def _slots(client, patient, **query):
    response = client.get(reverse("recall-patient", kwargs={"patient_id": patient.pk}), query)
    assert response.status_code == 200
    return response, response.context["slots"]


def test_propose_offers_free_slots_from_the_due_day_and_books_only_the_one_chosen(
    world, due, client_as
):
    fiona, fiona_due = due["fiona"]
    client = client_as("fran")
    _, offered = _slots(client, fiona, propose="maintenance")
    assert 2 <= len(offered) <= 5
    assert not Appointment.objects.filter(patient=fiona).exists()  # proposing books nothing
    days = [s["start"].date() for s in offered]
    assert all(d >= fiona_due for d in days) and len(set(days)) == len(days)
    chosen = offered[-1]  # the patient preferred the last one offered
    data = {"what": "maintenance", "start": chosen["value"]}
    data.update({k: chosen[k] for k in ("room", "equipment") if chosen[k]})
    booked = client.post(reverse("recall-book", kwargs={"patient_id": fiona.pk}), data)
    assert booked.status_code == 302
    made = Appointment.objects.get(patient=fiona, kind=Appointment.Kind.MAINTENANCE)
    assert made.practitioner == world.pat  # the last session's practitioner
    assert made.start == chosen["start"]
    assert (made.end - made.start) == timedelta(minutes=60)  # the protocol's session length
    assert Reminder.objects.filter(appointment=made).exists()
    assert fiona.recall_contacts.get().outcome == "booked"
    names = [r.patient.given_name for r in client_as("pat").get(URL).context["maintenance"]]
    assert "Fiona" not in names  # the booking service rewrote her row


def test_incomplete_series_link_to_booking_and_overdue_follow_ups_are_proposed(world, client_as):
    weekday_hours(world.pat)
    plan = accepted_plan(world.nora, world.pat)
    past = timezone.now() - timedelta(days=10)
    missed = book(
        world.nora,
        Booking(past, past + timedelta(minutes=30), world.pat),
        kind=Appointment.Kind.FOLLOW_UP,
    )
    due_dates.refresh(world.nora)  # the plan and the booking were written directly
    client = client_as("alice")
    response = client.get(URL)
    (row,) = response.context["incomplete"]
    assert (row.plan, row.counted, row.planned) == (plan, 0, 4)
    assert f"{reverse('series-propose', kwargs={'plan_id': plan.pk})}?course=0" in (
        response.content.decode()
    )
    (overdue,) = response.context["follow_ups"]
    assert overdue.appointment == missed

    # One moment for offering and booking: the first slot offered may start at the next point of
    # the grid, which a booking a moment later, across it, would find in the past.
    with clock.frozen_at(timezone.now()):
        _, offered = _slots(client, world.nora, propose="follow_up", appointment=missed.pk)
        data = {"what": "follow_up", "appointment": missed.pk, "start": offered[0]["value"]}
        booked = client.post(reverse("recall-book", kwargs={"patient_id": world.nora.pk}), data)

    assert booked.status_code == 302
    new = Appointment.objects.filter(kind=Appointment.Kind.FOLLOW_UP).exclude(pk=missed.pk).get()
    assert new.start > timezone.now() and new.end - new.start == timedelta(minutes=30)
    assert client.get(URL).context["follow_ups"] == []


def test_a_proposal_that_cannot_be_made_says_why(world, due, client_as):
    world.pat.working_hours.all().delete()
    fiona, _ = due["fiona"]
    response, offered = _slots(client_as("pat"), fiona, propose="maintenance")
    assert offered == []
    assert "Pat Practitioner has no working hours" in response.content.decode()
    assert not Appointment.objects.filter(patient=fiona).exists()


def test_booking_a_slot_before_the_due_day_is_refused_naming_the_field(world, due, client_as):
    fiona, fiona_due = due["fiona"]
    early = timezone.make_aware(datetime.combine(fiona_due - timedelta(days=3), time(10)))
    data = {"what": "maintenance", "start": early.isoformat()}
    response = client_as("fran").post(reverse("recall-book", kwargs={"patient_id": fiona.pk}), data)
    assert response.status_code == 400
    assert "start" in response.context["book_form"].errors
    assert "before the first possible day" in response.content.decode()
    assert not Appointment.objects.filter(patient=fiona).exists()


def test_staff_of_the_clinic_work_the_worklist_front_desk_without_clinical_detail(
    world, due, client_as
):
    fiona, _ = due["fiona"]
    Patient.objects.filter(pk=fiona.pk).update(phone="07700 900111")
    book_url = reverse("recall-book", kwargs={"patient_id": fiona.pk})
    desk = client_as("fran").get(URL)
    assert desk.status_code == 200 and not desk.context["clinical"]
    text = desk.content.decode()
    assert [r.patient.given_name for r in desk.context["maintenance"]] == ["Bea", "Fiona", "Cal"]
    assert "07700 900111" in text and "fiona@example.org" in text
    assert "Microneedling maintenance" in text
    for clinical in ("forecast", "Forecast", "knowledge base", "noticeable", 'class="spark"'):
        assert clinical not in text, clinical
    assert client_as("nobody").get(URL).status_code == 403
    other = client_as("oscar").get(URL)
    assert other.status_code == 200 and other.context["maintenance"] == []
    assert client_as("oscar").post(book_url).status_code == 404
    assert client_as("pat").get(book_url).status_code == 405
    anonymous = client_as("anonymous").get(URL)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert not Appointment.objects.filter(patient=fiona).exists()
