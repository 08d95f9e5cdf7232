"""What the patient wrote in their own words: recognised facts with the words they came from,
lines not recognised listed for review, and a plan accepted only after a practitioner confirmed
or corrected each fact — on the page and over the API alike."""

from __future__ import annotations

from django.urls import reverse

from dermis.web.clinic.models import Consultation, TreatmentPlan
from tests import factories

WRITTEN = {
    "medications": ["warfarin 5 mg daily", "moonbeam tonic"],
    "medical_history": ["mild asthma"],
}


def test_the_page_shows_what_was_recognised_and_what_was_not(world, client_as):
    consultation = factories.consultation(world.pat, world.nora, WRITTEN)
    html = client_as("pat").get(reverse("consultation-detail", args=[consultation.pk])).content
    text = html.decode()
    assert "recognised from: &#x27;warfarin 5 mg daily&#x27;" in text
    assert "Not recognised — practitioner to review" in text
    assert "moonbeam tonic" in text
    finding_rules = {f["rule"] for f in consultation.screening["findings"]}
    assert any("anticoag" in r for r in finding_rules)


def test_a_plan_waits_for_the_practitioner_to_confirm_the_facts(world, api_as):
    consultation = factories.consultation(world.pat, world.nora, WRITTEN)
    accept = f"/api/v1/consultations/{consultation.pk}/accept"

    early = api_as("pat").post(accept, {"signer_name": "Nora Quinn"})
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "body.facts"

    checked = api_as("pat").post(f"/api/v1/consultations/{consultation.pk}/facts", {"keep": [0]})
    assert checked.status_code == 200
    assert checked.json()["recognition"]["pending"] == 0
    assert checked.json()["recognition"]["facts"][0]["confirmed"] is True
    assert api_as("pat").post(accept, {"signer_name": "Nora Quinn"}).status_code == 201


def test_removing_a_wrong_fact_screens_again_without_it(world, client_as):
    consultation = factories.consultation(world.pat, world.nora, WRITTEN)
    url = reverse("consultation-facts", args=[consultation.pk])
    assert client_as("pat").post(url, {}).status_code == 302  # nothing kept
    consultation.refresh_from_db()
    assert consultation.recognition["facts"] == []
    assert not any("anticoag" in f["rule"] for f in consultation.screening["findings"])
    assert consultation.status == Consultation.Status.OPEN
    assert not TreatmentPlan.objects.exists()


def test_front_desk_cannot_confirm(world, client_as):
    consultation = factories.consultation(world.pat, world.nora, WRITTEN)
    url = reverse("consultation-facts", args=[consultation.pk])
    assert client_as("fran").post(url, {"keep": "0"}).status_code == 403
