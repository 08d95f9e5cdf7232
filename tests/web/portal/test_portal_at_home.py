"""At home: the health questions (reviewed by the practitioner, with what the screening
recognised), photo consent and the treatment consent, stored as the in-clinic consent is."""

from __future__ import annotations

import hashlib

from django.urls import reverse

from dermis.web.clinic.consultations import services as consultations
from dermis.web.clinic.consultations.consent_texts import photo_consent
from dermis.web.clinic.models import AuditEvent, ConsentRecord, PortalIntake
from tests import factories
from tests.conftest import portal_client
from tests.web.portal.portal_kit import ANSWERS


def test_health_questions_are_screened_and_kept_for_review(world, client_as):
    client = portal_client(world.nora)
    response = client.post(
        reverse("portal-health-questions"),
        ANSWERS
        | {
            "interest": "microneedling",
            "takes_medicines": "yes",
            "medications": "warfarin 5 mg\nvitamin D",
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    row = PortalIntake.objects.get(patient=world.nora)
    assert row.answers["medications"] == ["warfarin 5 mg", "vitamin D"]
    assert row.recognition["facts"], "warfarin is recognised from the free text"
    # the practitioner sees what the patient wrote and what was recognised
    page = client_as("pat").get(reverse("portal-answers", args=[world.nora.pk]))
    text = page.content.decode()
    assert "warfarin 5 mg" in text and "Read from the patient's own words" in text
    # each answer under its question in the practitioner's words, not the field's name
    assert "<dt>Medicines and supplements</dt><dd>warfarin 5 mg; vitamin D</dd>" in text
    assert "<dt>Medications</dt>" not in text
    assert "not yet reviewed" in text
    record_page = client_as("pat").get(reverse("patient-detail", args=[world.nora.pk]))
    assert "1 set of answers to review" in record_page.content.decode()
    # ... and starts a consultation from them
    form = client_as("pat").get(
        reverse("consultation-create", args=[world.nora.pk]) + f"?portal={row.pk}"
    )
    assert "warfarin 5 mg" in form.content.decode()
    client_as("pat").post(reverse("portal-answers-reviewed", args=[row.pk]))
    row.refresh_from_db()
    assert row.reviewed_by == world.pat.user
    assert AuditEvent.objects.filter(summary="portal answers reviewed").count() == 1
    # front desk and another clinic may not review
    assert client_as("fran").get(reverse("portal-answers", args=[world.nora.pk])).status_code == 403
    assert (
        client_as("oscar").get(reverse("portal-answers", args=[world.nora.pk])).status_code == 404
    )


def test_photo_consent_is_stored_as_a_consent_record(world):
    client = portal_client(world.nora)
    url = reverse("portal-consent", args=["photos"])
    text = photo_consent()
    page = client.get(url)
    assert text.text.splitlines()[0][:40] in page.content.decode().replace("&#x27;", "'")
    bad = client.post(
        url, {"consent_version": text.version, "confirm": "on", "signer_name": "Someone Else"}
    )
    assert bad.status_code == 422
    assert "full name" in bad.content.decode()
    ok = client.post(
        url, {"consent_version": text.version, "confirm": "on", "signer_name": "nora  QUINN"}
    )
    assert ok.status_code == 302
    row = ConsentRecord.objects.get(patient=world.nora)
    assert row.text == text.text and row.text_version == text.version
    assert row.text_sha256 == hashlib.sha256(text.text.encode()).hexdigest()
    assert row.witnessed_by is None and row.consultation is None
    assert (
        "already" in client.get(url).content.decode()
        or "You signed this" in client.get(url).content.decode()
    )


def test_treatment_consent_at_home_is_used_when_the_plan_is_accepted(world):
    consult = factories.consultation(world.pat, world.nora)
    client = portal_client(world.nora)
    url = reverse("portal-consent", args=["treatment"])
    text = consultations.consent_text_for(consult.proposal)
    stale = client.post(
        url, {"consent_version": "2020.1/old", "confirm": "on", "signer_name": "Nora Quinn"}
    )
    assert stale.status_code == 422 and "changed" in stale.content.decode()
    response = client.post(
        url, {"consent_version": text.version, "confirm": "on", "signer_name": "Nora Quinn"}
    )
    assert response.status_code == 302
    home = ConsentRecord.objects.get(patient=world.nora)
    assert home.consultation == consult and home.text == text.text
    # the practitioner accepts without another signature: the plan uses the home record
    plan, _ = consultations.accept_plan(
        factories.actor(world.pat),
        consult,
        [],
        consultations.SignedConsent(shown_version="", signer_name="", signature_png=b""),
    )
    assert plan.consent == home
    assert ConsentRecord.objects.count() == 1


def test_without_a_home_signature_the_clinic_still_needs_one(world):
    import pytest

    from dermis.web.clinic.errors import ServiceError

    consult = factories.consultation(world.pat, world.nora)
    with pytest.raises(ServiceError) as err:
        consultations.accept_plan(
            factories.actor(world.pat),
            consult,
            [],
            consultations.SignedConsent(shown_version="", signer_name="", signature_png=b""),
        )
    assert err.value.field == "signer_name"


def test_nothing_to_sign_before_a_plan_is_proposed(world):
    client = portal_client(world.nora)
    page = client.get(reverse("portal-consent", args=["treatment"]))
    assert "There is nothing to sign yet" in page.content.decode()
    assert client.get(reverse("portal-consent", args=["other"])).status_code == 404


def test_the_practitioner_accepts_with_the_consent_signed_at_home(world, client_as):
    from tests.web.test_consent import accept_post

    consult = factories.consultation(world.pat, world.nora)
    text = consultations.consent_text_for(consult.proposal)
    portal_client(world.nora).post(
        reverse("portal-consent", args=["treatment"]),
        {"consent_version": text.version, "confirm": "on", "signer_name": "Nora Quinn"},
    )
    home = ConsentRecord.objects.get()
    pat = client_as("pat")
    page = pat.get(reverse("consultation-detail", args=[consult.pk])).content.decode()
    assert "signed this text at home" in page
    data = accept_post(consult.proposal, name=None, signature=None, confirm=None)
    data.pop("consent_version")
    data["use_home_consent"] = "1"
    response = pat.post(reverse("consultation-accept", args=[consult.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ConsentRecord.objects.get() == home
    assert home.plans.get().consultation == consult


def test_claiming_a_home_consent_that_does_not_exist_is_refused(world, client_as):
    from tests.web.test_consent import accept_post

    consult = factories.consultation(world.pat, world.nora)
    data = accept_post(consult.proposal, name=None, signature=None, confirm=None)
    data["use_home_consent"] = "1"
    response = client_as("pat").post(reverse("consultation-accept", args=[consult.pk]), data)
    assert response.status_code == 400
    assert "has not signed" in response.content.decode()
    assert not ConsentRecord.objects.exists()
