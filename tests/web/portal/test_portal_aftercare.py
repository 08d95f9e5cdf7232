"""Aftercare on the patient's phone, check-ins, and the alert a warning sign raises."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from dermis.web.clinic import clock
from dermis.web.clinic.models import AuditEvent, CheckIn
from tests.conftest import portal_client
from tests.web.portal.portal_kit import treated_yesterday

CALM = {
    "looks": "as_expected",
    "feels": "tight",
    "warn_infection": "no",
    "warn_blisters": "no",
    "warn_cold_sore": "no",
    "warn_lasting": "no",
    "warn_breathing": "no",
    "improvement": "",
    "note": "",
}


@pytest.fixture
def treated(world, settings, tmp_path):
    """Nora, treated by pat yesterday (a signed session of her accepted plan)."""
    settings.PHOTO_ROOT = tmp_path / "photos"
    world.pat.user.email = "pat@example.org"
    world.pat.user.save()
    return treated_yesterday(world)


def test_aftercare_day_by_day_without_citation_keys(world, treated):
    from dermis.web.clinic.core_inputs import knowledge

    client = portal_client(world.nora)
    page = client.get(reverse("portal-aftercare", args=[treated.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Day by day" in text and "Call the clinic now" in text
    assert "Please tell us how your skin is today." in text  # day 1 prompt
    keys = {s for rule in knowledge().aftercare.values() for s in rule.sources}
    assert keys and not [k for k in keys if f">{k}<" in text or f"[{k}]" in text or k in text]
    assert treated.notes == "" or treated.notes not in text


def test_another_patients_session_is_not_found(world, treated):
    client = portal_client(world.rhys)
    assert client.get(reverse("portal-aftercare", args=[treated.pk])).status_code == 404
    assert client.post(reverse("portal-check-in", args=[treated.pk]), CALM).status_code == 404
    assert not CheckIn.objects.exists()


def test_a_calm_check_in_raises_no_alert(
    world, treated, client_as, django_capture_on_commit_callbacks
):
    client = portal_client(world.nora)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal-check-in", args=[treated.pk]), CALM | {"improvement": "3"}
        )
    assert response.status_code == 200 and b"Thank you" in response.content
    made = CheckIn.objects.get()
    assert (made.day, made.warnings, made.improvement) == (1, [], 3)
    assert mail.outbox == []
    dashboard = client_as("pat").get(reverse("dashboard")).content.decode()
    assert "Patients reporting warning signs" not in dashboard


def test_a_warning_sign_tells_the_patient_to_call_and_alerts_the_clinic(
    world, treated, client_as, django_capture_on_commit_callbacks
):
    world.northgate.phone = "0113 496 0000"
    world.northgate.save()
    client = portal_client(world.nora)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal-check-in", args=[treated.pk]), CALM | {"warn_infection": "yes"}
        )
    text = response.content.decode()
    assert "Please call the clinic now" in text and "0113 496 0000" in text
    assert "NHS 111" in text
    made = CheckIn.objects.get()
    assert made.warnings == ["infection"] and made.acknowledged_at is None
    # the practitioner is emailed, with no patient data
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["pat@example.org"]
    assert "Nora" not in mail.outbox[0].body and "Quinn" not in mail.outbox[0].body
    # the dashboard shows it to clinical staff, not to front desk or another clinic
    assert "Patients reporting warning signs" in client_as("pat").get("/").content.decode()
    assert "Patients reporting warning signs" not in client_as("fran").get("/").content.decode()
    assert "Patients reporting warning signs" not in client_as("oscar").get("/").content.decode()
    url = reverse("check-in-acknowledge", args=[made.pk])
    assert client_as("oscar").post(url).status_code == 404
    assert client_as("fran").post(url).status_code == 403
    assert client_as("pat").post(url).status_code == 302
    made.refresh_from_db()
    assert made.acknowledged_by == world.pat.user and made.acknowledged_at is not None
    assert "Patients reporting warning signs" not in client_as("pat").get("/").content.decode()
    summaries = set(
        AuditEvent.objects.filter(patient_id_ref=world.nora.pk).values_list("summary", flat=True)
    )
    assert "portal: check-in with a warning sign" in summaries
    assert "check-in alert acknowledged" in summaries
    # the patient sees that the clinic has seen it
    page = client.get(reverse("portal-aftercare", args=[treated.pk])).content.decode()
    assert "the clinic has seen it" in page


def test_check_in_answers_are_required(world, treated):
    client = portal_client(world.nora)
    response = client.post(reverse("portal-check-in", args=[treated.pk]), {})
    assert response.status_code == 422
    assert b"This field is required." in response.content
    assert not CheckIn.objects.exists()


def _png(size=(64, 64)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 150, 140)).save(out, "PNG")
    out.seek(0)
    out.name = "skin.png"
    return out


def test_a_photo_goes_through_the_photo_validation(world, treated, settings):
    client = portal_client(world.nora)
    url = reverse("portal-check-in", args=[treated.pk])
    response = client.post(url, CALM | {"photo": _png()})
    assert response.status_code == 200
    made = CheckIn.objects.get()
    assert made.photo_name and (settings.PHOTO_ROOT / made.photo_name).exists()
    bad = io.BytesIO(b"not an image at all")
    bad.name = "skin.png"
    response = client.post(url, CALM | {"photo": bad})
    assert response.status_code == 422
    assert CheckIn.objects.count() == 1


def test_check_ins_close_after_two_weeks(world, treated):
    client = portal_client(world.nora)
    with clock.frozen_at(timezone.now() + timedelta(days=14)):
        response = client.post(reverse("portal-check-in", args=[treated.pk]), CALM)
    assert response.status_code == 302
    assert not CheckIn.objects.exists()


def test_patient_reported_change_shows_beside_the_grades_and_apart(world, treated, client_as):
    client = portal_client(world.nora)
    client.post(reverse("portal-check-in", args=[treated.pk]), CALM | {"improvement": "2"})
    page = client_as("pat").get(reverse("patient-detail", args=[world.nora.pk])).content.decode()
    assert "Patient-reported change" in page
    assert "2 (Much better)" in page
    assert "Not a clinician" in page
