"""Patients: who may see and change what, search, the record page, simple appointments."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.core.patient import Assessment, Intake
from dermis.web.clinic.models import Appointment, AuditEvent, Patient
from tests import factories
from tests.web.test_consent import accept, consult

NEW_PATIENT = {
    "given_name": "Ada",
    "family_name": "Lovelace",
    "date_of_birth": "1990-12-10",
    "sex": "f",
    "phone": "07700 900456",
    "email": "ada@example.org",
    "address": "",
    "email_reminders": "on",
}


def urls(world) -> list[str]:
    nora = world.nora.pk
    return [
        reverse("patient-list"),
        reverse("patient-create"),
        reverse("patient-detail", args=[nora]),
        reverse("patient-edit", args=[nora]),
        reverse("appointment-create", args=[nora]),
    ]


@pytest.mark.parametrize("persona", ["alice", "pat", "fran"])
def test_every_member_of_staff_may_use_the_patient_pages(world, client_as, persona):
    for url in urls(world):
        assert client_as(persona).get(url).status_code == 200, url


@pytest.mark.parametrize(("persona", "status"), [("nobody", 403), ("anonymous", 302)])
def test_no_patient_page_without_a_clinic(world, client_as, persona, status):
    for url in urls(world):
        response = client_as(persona).get(url)
        assert response.status_code == status, url
        if status == 302:
            assert response["Location"].startswith(reverse("login"))
    assert client_as(persona).post(reverse("patient-create"), NEW_PATIENT).status_code == status
    assert not Patient.objects.filter(family_name="Lovelace").exists()


def test_another_clinics_patient_is_not_found(world, client_as):
    for url in urls(world)[2:]:
        assert client_as("oscar").get(url).status_code == 404, url
    edit = reverse("patient-edit", args=[world.nora.pk])
    assert client_as("oscar").post(edit, {**NEW_PATIENT}).status_code == 404
    world.nora.refresh_from_db()
    assert world.nora.given_name == "Nora"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("nora", ["Nora"]),
        ("QUINN", ["Nora"]),
        ("nora quinn", ["Nora"]),
        ("07700 900123", ["Nora"]),
        ("07700900123", ["Nora"]),
        ("nora@example", ["Nora"]),
        ("1985-03-14", ["Nora"]),
        ("14/03/1985", ["Nora"]),
        ("1985-03-15", []),
        ("rhys", []),  # another clinic's patient is never listed
        ("", ["Ada", "Nora"]),
    ],
)
def test_search_by_name_phone_email_or_date_of_birth(world, client_as, query, found):
    Patient.objects.create(
        clinic=world.northgate,
        given_name="Ada",
        family_name="Byron",
        date_of_birth=date(1990, 1, 1),
    )
    response = client_as("fran").get(reverse("patient-list"), {"q": query})
    assert response.status_code == 200
    assert [p.given_name for p in response.context["page"].object_list] == found


def test_registering_a_patient(world, client_as):
    response = client_as("fran").post(reverse("patient-create"), NEW_PATIENT)
    patient = Patient.objects.get(family_name="Lovelace")
    assert response.status_code == 302
    assert response["Location"] == reverse("patient-detail", args=[patient.pk])
    assert patient.clinic == world.northgate and patient.created_by == world.fran.user
    assert (patient.email_reminders, patient.sms_reminders) == (True, False)
    event = AuditEvent.objects.get(action="create", object_type="Patient")
    assert event.patient_id_ref == patient.pk and "Lovelace" not in event.summary


def test_registration_errors_name_the_field(world, client_as):
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    data = {**NEW_PATIENT, "given_name": "", "date_of_birth": future, "email": "not-an-email"}
    response = client_as("fran").post(reverse("patient-create"), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Given name: This field is required." in html
    assert "Date of birth: Cannot be in the future." in html
    assert "Email: Enter a valid email address." in html
    assert 'id="id_given_name_error"' in html
    assert not Patient.objects.filter(family_name="Lovelace").exists()


def test_editing_demographics(world, client_as):
    url = reverse("patient-edit", args=[world.nora.pk])
    nora = world.nora
    data = {**NEW_PATIENT, "given_name": "Nora", "family_name": "Quinn-Smith"}
    data |= {"phone": nora.phone, "email": nora.email}  # front desk keeps the contact details
    assert client_as("fran").post(url, data).status_code == 302
    world.nora.refresh_from_db()
    assert world.nora.family_name == "Quinn-Smith" and world.nora.clinic == world.northgate
    event = AuditEvent.objects.get(action="update", object_type="Patient")
    assert "family_name" in event.summary and "Quinn" not in event.summary


MEDICAL = "impetigo on both cheeks"


@pytest.fixture
def journey(world, client_as):
    """Nora with a consultation (medical history, screening), an accepted plan, an appointment."""
    consultation = consult(
        world,
        intake=Intake(medical_history=[MEDICAL], anticoagulants=True),
        assessment=Assessment(
            concerns=[{"area": "cheeks", "concern": "fine_lines", "severity": 3}]
        ),
    )
    accept(client_as("pat"), consultation)
    start = timezone.now() + timedelta(days=3)
    Appointment.objects.create(
        clinic=world.northgate,
        patient=world.nora,
        practitioner=world.pat,
        start=start,
        end=start + timedelta(hours=1),
    )
    return consultation


def test_the_record_page_shows_the_whole_journey_to_clinical_staff(world, client_as, journey):
    response = client_as("pat").get(reverse("patient-detail", args=[world.nora.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "07700 900123" in html and "Pat Practitioner" in html  # demographics, appointment
    assert "Anticoagulants" in html and "Modify" in html  # the screening finding and its badge
    assert reverse("consultation-detail", args=[journey.pk]) in html
    plan = world.nora.plans.get()
    assert reverse("plan-detail", args=[plan.pk]) in html and "Version 1" in html
    assert "Treatment sessions" in html and "Photos" in html  # the other areas' sections
    assert "Alam M" in html  # a source resolved to its bibliography entry


def test_front_desk_sees_demographics_and_appointments_only(world, client_as, journey):
    response = client_as("fran").get(reverse("patient-detail", args=[world.nora.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "07700 900123" in html and "Pat Practitioner" in html
    hidden = [MEDICAL, "Anticoagulants", "Fitzpatrick", "Consultations", "Treatment plan"]
    hidden += ["Treatment sessions", "Photos", "Aftercare", "grades", "forecast", "Sources"]
    for medical in hidden:
        assert medical not in html, medical
    assert reverse("consultation-create", args=[world.nora.pk]) not in html


@pytest.mark.parametrize("persona", ["fran", "pat"])
def test_viewing_the_record_is_audited_without_patient_data(world, client_as, persona):
    client_as(persona).get(reverse("patient-detail", args=[world.nora.pk]))
    event = AuditEvent.objects.get(action="view", object_type="Patient")
    assert event.user == world.user(persona) and event.patient_id_ref == world.nora.pk
    assert event.clinic == world.northgate and "Nora" not in event.summary


def _booking(world, when: datetime, minutes=60, **extra) -> dict:
    location = world.northgate.locations.get()
    return {
        "practitioner": world.pat.pk,
        "location": location.pk,
        "kind": "consultation",
        "start": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": minutes,
        **extra,
    }


def _at(days: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def hours(world):
    factories.working_hours(world.pat)


def test_front_desk_books_an_appointment(world, client_as, hours):
    url = reverse("appointment-create", args=[world.nora.pk])
    response = client_as("fran").post(url, _booking(world, _at(2, 10), 45))
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert (appointment.patient, appointment.practitioner) == (world.nora, world.pat)
    assert appointment.clinic == world.northgate and appointment.kind == "consultation"
    assert appointment.end - appointment.start == timedelta(minutes=45)
    assert AuditEvent.objects.filter(action="create", object_type="Appointment").count() == 1


def test_an_overlapping_booking_is_refused_with_a_clear_message(world, client_as, hours):
    url = reverse("appointment-create", args=[world.nora.pk])
    client_as("fran").post(url, _booking(world, _at(2, 10)))
    response = client_as("fran").post(url, _booking(world, _at(2, 10) + timedelta(minutes=30)))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_start_error"' in html
    assert "Pat Practitioner already has an appointment from 10:00 to 11:00" in html
    assert Appointment.objects.count() == 1
    # back to back is fine
    after = client_as("fran").post(url, _booking(world, _at(2, 11)))
    assert after.status_code == 302 and Appointment.objects.count() == 2


@pytest.mark.parametrize(
    ("extra", "field", "says"),
    [
        ({"duration_minutes": 0}, "duration_minutes", "must end after it starts"),
        ({"duration_minutes": -30}, "duration_minutes", "must end after it starts"),
        ({"start": "tomorrow"}, "start", "Enter a valid date/time"),
        ({"practitioner": ""}, "practitioner", "This field is required"),
    ],
)
def test_booking_errors_name_the_field(world, client_as, hours, extra, field, says):
    url = reverse("appointment-create", args=[world.nora.pk])
    response = client_as("fran").post(url, _booking(world, _at(2, 10), **extra))
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in html and says in html
    assert not Appointment.objects.exists()


def test_another_clinics_practitioner_cannot_be_booked(world, client_as, hours):
    url = reverse("appointment-create", args=[world.nora.pk])
    response = client_as("fran").post(url, _booking(world, _at(2, 10), practitioner=world.oscar.pk))
    assert response.status_code == 400
    assert 'id="id_practitioner_error"' in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_slot_taken_between_check_and_write_is_refused_cleanly(
    world, client_as, hours, monkeypatch
):
    from dermis.web.clinic.scheduling import booking
    from dermis.web.clinic.scheduling.booking import SlotTaken

    def taken(*args, **kwargs):
        raise SlotTaken()

    monkeypatch.setattr(booking, "book", taken)
    url = reverse("appointment-create", args=[world.nora.pk])
    response = client_as("fran").post(url, _booking(world, _at(2, 10)))
    assert response.status_code == 400
    assert "Pat Practitioner is already booked at that time" in response.content.decode()
    assert not Appointment.objects.exists()
