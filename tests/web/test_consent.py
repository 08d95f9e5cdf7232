"""Accepting a plan with consent: exact text, hash, drawn signature; refusals write nothing."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from django.urls import reverse
from PIL import Image, ImageDraw

from dermis.core.patient import Assessment, Intake
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.consultations.consent_texts import consent_for
from dermis.web.clinic.consultations.services import create_consultation
from dermis.web.clinic.models import AuditEvent, ConsentRecord, Consultation, TreatmentPlan

SCARS = Assessment(
    concerns=[
        {"area": "cheeks", "concern": "acne_scars_rolling", "severity": 3},
        {"area": "forehead", "concern": "uneven_tone", "severity": 2},
    ],
    preferred_modality=None,
)


def signature_png(width=600, height=200, ink=True, fmt="PNG") -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line([(20, 150), (200, 40), (380, 160), (560, 60)], "black", 4)
    buf = io.BytesIO()
    image.convert("RGB" if fmt == "JPEG" else "RGBA").save(buf, fmt)
    return buf.getvalue()


def data_url(raw: bytes, mime="image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def consult(world, intake=None, assessment=SCARS, phototype="III", patient=None):
    return create_consultation(
        Actor.of_staff(world.pat), patient or world.nora, intake or Intake(), assessment, phototype
    )


def accept_post(content: dict, changes: dict | None = None, **consent) -> dict:
    """The accept form as the page sends it: every value as planned, then `changes`."""
    data = {}
    for i, course in enumerate(content["courses"]):
        data[f"c{i}-sessions"] = course["sessions"]
        data[f"c{i}-interval_days"] = course["interval_days"]
        data[f"c{i}-reason"] = ""
        for j, t in enumerate(course["treatments"]):
            what = "depth_mm" if course["modality"] == "microneedling" else "tip"
            data[f"c{i}-t{j}-{what}"] = t[what]
            data[f"c{i}-t{j}-reason"] = ""
    data.update(changes or {})
    modalities = [c["modality"] for c in content["courses"]]
    data.update(
        consent_version=consent.pop("version", consent_for(modalities).version),
        confirm="on",
        signer_name=consent.pop("name", "Nora Quinn"),
        signature=consent.pop("signature", data_url(signature_png())),
    )
    data.update(consent)
    return {k: v for k, v in data.items() if v is not None}


def accept(client, consultation, changes=None, **consent):
    url = reverse("consultation-accept", args=[consultation.pk])
    return client.post(url, accept_post(consultation.proposal, changes, **consent))


def nothing_written(consultation) -> bool:
    consultation.refresh_from_db()
    return (
        not ConsentRecord.objects.exists()
        and not TreatmentPlan.objects.exists()
        and consultation.status == Consultation.Status.OPEN
    )


def test_accepting_stores_the_exact_text_its_hash_and_the_signature(world, client_as):
    consultation = consult(world)
    png = signature_png()
    response = accept(client_as("pat"), consultation, signature=data_url(png))
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("plan-detail", args=[plan.pk])

    record = ConsentRecord.objects.get()
    expected = consent_for(["microneedling", "microdermabrasion"])
    assert record.text == expected.text
    assert record.text_version == expected.version == "2026.1/microneedling+microdermabrasion"
    assert record.text_sha256 == hashlib.sha256(record.text.encode()).hexdigest()
    assert bytes(record.signature_png) == png
    assert record.signer_name == "Nora Quinn"
    assert record.witnessed_by == world.pat.user
    assert record.consultation == consultation and record.patient == world.nora
    assert plan.consent == record and plan.version == 1 and plan.status == "active"
    assert plan.content == consultation.proposal and plan.adjustments == []
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.ACCEPTED
    actions = set(
        AuditEvent.objects.filter(patient_id_ref=world.nora.pk).values_list("action", "object_type")
    )
    assert {("sign", "ConsentRecord"), ("create", "TreatmentPlan")} <= actions


def test_the_printable_consent_page_and_the_signature_image(world, client_as):
    consultation = consult(world)
    png = signature_png()
    accept(client_as("pat"), consultation, signature=data_url(png))
    record = ConsentRecord.objects.get()
    page = client_as("alice").get(reverse("consent-detail", args=[record.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert record.text_sha256 in html and record.text_version in html
    assert "matches the text below" in html
    assert "Less common risks include infection" in html
    assert reverse("consent-signature", args=[record.pk]) in html
    image = client_as("pat").get(reverse("consent-signature", args=[record.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image.content == png
    assert "no-store" in image["Cache-Control"]
    assert AuditEvent.objects.filter(action="view", object_type="ConsentRecord").count() == 2


@pytest.mark.parametrize(
    ("persona", "status"), [("fran", 403), ("oscar", 404), ("nobody", 403), ("anonymous", 302)]
)
def test_consent_pages_are_for_this_clinics_clinical_staff(world, client_as, persona, status):
    consultation = consult(world)
    accept(client_as("pat"), consultation)
    record = ConsentRecord.objects.get()
    for name in ("consent-detail", "consent-signature"):
        response = client_as(persona).get(reverse(name, args=[record.pk]))
        assert response.status_code == status
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("signature", "says"),
    [
        ("", "is missing"),
        (data_url(signature_png(ink=False)), "is blank"),
        (data_url(signature_png(fmt="JPEG"), "image/jpeg"), "must be a PNG"),
        ("data:image/png;base64," + base64.b64encode(b"not an image").decode(), "not a readable"),
        ("data:image/png;base64,@@@", "could not be read"),
        (data_url(signature_png(width=30, height=10)), "unexpected size"),
        ("data:image/png;base64," + "A" * 410_000, "too large"),
    ],
)
def test_a_bad_signature_is_refused_next_to_the_field(world, client_as, signature, says):
    consultation = consult(world)
    response = accept(client_as("pat"), consultation, signature=signature)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="signature-errors"' in html and says in html
    assert "Signature: " in html  # the error summary names the field
    assert nothing_written(consultation)


def test_consent_needs_the_typed_name_and_the_agreement(world, client_as):
    consultation = consult(world)
    response = accept(client_as("pat"), consultation, name="", confirm=None)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Patient&#x27;s full name: This field is required." in html
    assert "Agreement: This field is required." in html
    assert nothing_written(consultation)


def test_a_consent_text_that_changed_since_the_page_was_opened_is_refused(world, client_as):
    consultation = consult(world)
    response = accept(client_as("pat"), consultation, version="2025.9/microneedling")
    assert response.status_code == 400
    assert "the consent text has changed" in response.content.decode().lower()
    assert nothing_written(consultation)


def test_an_out_of_bounds_adjustment_is_refused_with_the_reason_and_nothing_is_saved(
    world, client_as
):
    consultation = consult(world)
    changes = {"c0-t0-depth_mm": 2.0, "c0-t0-reason": "wants faster results"}
    response = accept(client_as("pat"), consultation, changes)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_c0-t0-depth_mm_error"' in html
    assert "2 mm is above the usual range for scar treatment on the cheeks" in html
    assert "[drpen, harris2015]" in html
    assert nothing_written(consultation)


def test_a_change_without_a_reason_is_refused(world, client_as):
    consultation = consult(world)
    response = accept(client_as("pat"), consultation, {"c0-interval_days": 42})
    assert response.status_code == 400
    assert 'id="id_c0-reason_error"' in response.content.decode()
    assert nothing_written(consultation)


def test_an_adjustment_inside_the_limits_is_stored_against_the_proposal(world, client_as):
    consultation = consult(world)
    changes = {"c0-t0-depth_mm": 1.0, "c0-t0-reason": "tolerated a test patch well"}
    assert consultation.proposal["courses"][0]["treatments"][0]["depth_mm"] == 1.25
    accept(client_as("pat"), consultation, changes)
    plan = TreatmentPlan.objects.get()
    assert plan.content["courses"][0]["treatments"][0]["depth_mm"] == 1.0
    assert plan.adjustments == [
        {
            "what": "depth_mm",
            "modality": "microneedling",
            "area": "cheeks",
            "concern": "acne_scars_rolling",
            "from": 1.25,
            "to": 1.0,
            "reason": "tolerated a test patch well",
        }
    ]
    page = client_as("pat").get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert "tolerated a test patch well" in page


def test_a_consultation_is_accepted_once(world, client_as):
    consultation = consult(world)
    accept(client_as("pat"), consultation)
    again = accept(client_as("alice"), consultation)
    assert again.status_code == 302
    assert TreatmentPlan.objects.count() == 1 and ConsentRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "status"), [("fran", 403), ("oscar", 404), ("nobody", 403), ("anonymous", 302)]
)
def test_only_this_clinics_clinical_staff_may_accept(world, client_as, persona, status):
    consultation = consult(world)
    assert accept(client_as(persona), consultation).status_code == status
    assert nothing_written(consultation)


def test_accept_is_post_only(world, client_as):
    consultation = consult(world)
    url = reverse("consultation-accept", args=[consultation.pk])
    assert client_as("pat").get(url).status_code == 405


def test_a_proposal_the_knowledge_base_no_longer_covers_cannot_be_accepted(world, client_as):
    consultation = consult(world)
    proposal = consultation.proposal
    proposal["courses"][0]["treatments"][0]["concern"] = "retired_concern"
    Consultation.objects.filter(pk=consultation.pk).update(proposal=proposal)
    page = client_as("pat").get(reverse("consultation-detail", args=[consultation.pk]))
    assert page.status_code == 200
    assert "cannot be adjusted or accepted" in page.content.decode()
    assert accept(client_as("pat"), consultation).status_code == 302
    assert nothing_written(consultation)
