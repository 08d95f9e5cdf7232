"""Session charting: drafts checked against the knowledge base, sign-and-lock, addenda, roles."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dermis.core.patient import Assessment, Intake
from dermis.core.planning import plan
from dermis.core.screening import screen
from dermis.web.clinic import core_inputs
from dermis.web.clinic.charting import services as charting
from dermis.web.clinic.models import (
    Appointment,
    AuditEvent,
    Consultation,
    SessionArea,
    TreatmentPlan,
    TreatmentSession,
)
from tests import factories

CONCERNS = [
    {"area": "cheeks", "concern": "acne_scars_rolling", "severity": 3},
    {"area": "forehead", "concern": "fine_lines", "severity": 3},
]


def give_plan(patient, user) -> TreatmentPlan:
    """An active plan from the core: cheeks 1.25 mm and forehead 0.25 mm, automated pen."""
    patient.fitzpatrick = "III"
    patient.save()
    kb = core_inputs.knowledge()
    today = timezone.localdate()
    who = core_inputs.core_patient(patient, today)
    assessment = Assessment(skin_thickness="normal", concerns=CONCERNS)
    found = screen(who, Intake(), kb, today)
    proposal = plan(who, assessment, found, kb)
    consultation = Consultation.objects.create(
        patient=patient,
        intake=Intake().model_dump(mode="json"),
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
        created_by=user,
    )


def chart_post(**overrides) -> dict:
    data = {
        "modality": "microneedling",
        "performed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "60",
        "device": "automated_pen",
        "cartridge": "36-pin nano",
        "lot_number": "",
        "serum": "sterile hyaluronic acid",
        "numbing": "",
        "endpoint": "erythema",
        "immediate_reactions": "even redness",
        "notes": "tolerated well",
        "precare_done": "on",
        "treat_cheeks": "on",
        "depth_cheeks": "1.25",
        "passes_cheeks": "2",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def screened(world):
    """Nora, screened at a consultation (no accepted plan yet)."""
    return factories.consultation(world.pat, world.nora)


@pytest.fixture
def draft(world, screened):
    return factories.session(world.pat, world.nora, notes="first pass")


@pytest.fixture
def final(draft, world):
    return factories.finalised(world.pat, draft)


# --- Who may chart --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("pat", 200), ("alice", 200), ("fran", 403), ("nobody", 403), ("oscar", 404)],
)
def test_charting_pages_are_for_clinical_staff_of_the_clinic(
    client_as, world, draft, persona, status
):
    c = client_as(persona)
    for url in (
        reverse("session-create", args=[world.nora.pk]),
        reverse("session-detail", args=[draft.pk]),
        reverse("session-edit", args=[draft.pk]),
    ):
        assert c.get(url).status_code == status, url
    if status != 200:
        posted = c.post(
            reverse("session-finalise", args=[draft.pk]), factories.finalise_form(draft)
        )
        assert posted.status_code == status
        draft.refresh_from_db()
        assert not draft.is_final


def test_anonymous_is_sent_to_log_in(client_as, draft):
    response = client_as("anonymous").get(reverse("session-detail", args=[draft.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Drafts ---------------------------------------------------------------------------------


def test_the_form_is_prefilled_from_the_active_plan_and_works_without_javascript(client_as, world):
    active = give_plan(world.nora, world.pat.user)
    page = client_as("pat").get(reverse("session-create", args=[world.nora.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Prefilled from the active plan" in html and f"version {active.version}" in html
    # every knowledge-base area has a plain checkbox and inputs, and a shape on the diagram
    for area in core_inputs.knowledge().areas:
        assert f'name="treat_{area}"' in html and f'name="depth_{area}"' in html
        assert f'data-area="{area}"' in html
    assert 'name="treat_cheeks" id="id_treat_cheeks" checked' in html
    assert 'name="depth_cheeks" value="1.25"' in html
    assert 'name="depth_forehead" value="0.25"' in html
    assert "bodymap.js" in html


def test_a_valid_chart_is_saved_as_a_draft_linked_to_the_plan_and_audited(client_as, world):
    active = give_plan(world.nora, world.pat.user)
    url = reverse("session-create", args=[world.nora.pk])
    response = client_as("pat").post(url, chart_post(treat_forehead="on", depth_forehead="0.25"))
    session = TreatmentSession.objects.get(patient=world.nora)
    assert response.status_code == 302
    assert response["Location"] == reverse("session-detail", args=[session.pk])
    assert (session.status, session.plan, session.practitioner) == ("draft", active, world.pat)
    assert {(a.area, a.depth_mm, a.passes) for a in session.areas.all()} == {
        ("cheeks", Decimal("1.25"), 2),
        ("forehead", Decimal("0.25"), 1),
    }
    event = AuditEvent.objects.get(action="create", object_type="TreatmentSession")
    assert event.patient_id_ref == world.nora.pk and "Nora" not in event.summary


def test_a_depth_above_the_areas_maximum_is_refused_naming_the_field_and_the_limit(
    client_as, world
):
    give_plan(world.nora, world.pat.user)
    url = reverse("session-create", args=[world.nora.pk])
    response = client_as("pat").post(url, chart_post(treat_forehead="on", depth_forehead="1.5"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Depth for Forehead (mm)" in html
    # the plan treats fine lines there (standard profile) and the skin was assessed as normal
    assert "1.5 mm is above the maximum for the Forehead (0.5 mm, standard treatment" in html
    assert not TreatmentSession.objects.exists()
    # an area outside the plan is held to the deepest profile the knowledge base has for it
    response = client_as("pat").post(url, chart_post(treat_chin="on", depth_chin="1.75"))
    assert "1.75 mm is above the maximum for the Chin (1.5 mm, scar treatment, normal skin)" in (
        response.content.decode()
    )
    assert not TreatmentSession.objects.exists()


def test_a_depth_outside_the_devices_range_is_refused(client_as, world):
    url = reverse("session-create", args=[world.nora.pk])
    post = chart_post(device="dermaroller", depth_cheeks="0.25")
    response = client_as("pat").post(url, post)
    assert response.status_code == 400
    assert (
        "outside the Dermaroller (professional)&#x27;s range (0.5-2 mm)"
        in response.content.decode()
    )
    assert not TreatmentSession.objects.exists()


def test_a_treated_area_needs_its_depth(client_as, world):
    url = reverse("session-create", args=[world.nora.pk])
    response = client_as("pat").post(url, chart_post(treat_chin="on"))
    assert response.status_code == 400
    assert 'href="#id_depth_chin">Depth for Chin (mm)</a>: is required' in response.content.decode()


def test_microdermabrasion_charts_a_tip_checked_against_the_device(client_as, world, screened):
    url = reverse("session-create", args=[world.nora.pk]) + "?modality=microdermabrasion"
    c = client_as("pat")
    assert 'name="tip_cheeks"' in c.get(url).content.decode()
    post = chart_post(
        modality="microdermabrasion", device="crystal", depth_cheeks=None, tip_cheeks="coarse"
    )
    refused = c.post(url, post)
    assert refused.status_code == 400
    assert "takes no tip" in refused.content.decode()
    post.update(device="diamond_tip")
    assert c.post(url, post).status_code == 302
    assert TreatmentSession.objects.get().areas.get().tip == "coarse"


def test_a_session_charted_from_an_appointment_is_linked_to_it(client_as, world, screened):
    start = timezone.now() - timedelta(hours=1)
    appointment = Appointment.objects.create(
        clinic=world.northgate,
        patient=world.nora,
        practitioner=world.pat,
        start=start,
        end=start + timedelta(hours=1),
    )
    url = reverse("session-create", args=[world.nora.pk]) + f"?appointment={appointment.pk}"
    assert client_as("pat").post(url, chart_post()).status_code == 302
    assert TreatmentSession.objects.get().appointment == appointment


def test_a_draft_can_be_edited(client_as, draft):
    url = reverse("session-edit", args=[draft.pk])
    c = client_as("alice")
    assert 'name="depth_cheeks" value="1.0"' in c.get(url).content.decode()
    response = c.post(url, chart_post(depth_cheeks="0.75", notes="changed"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.notes == "changed"
    assert draft.areas.get().depth_mm == Decimal("0.75")
    assert AuditEvent.objects.filter(action="update", object_id=str(draft.pk)).exists()


# --- Finalising -----------------------------------------------------------------------------


def test_finalising_needs_a_confirmation_and_the_lot_number(client_as, draft):
    c = client_as("pat")
    url = reverse("session-finalise", args=[draft.pk])
    unconfirmed = c.post(url, {})
    assert unconfirmed.status_code == 400
    assert "tick to confirm" in unconfirmed.content.decode()
    no_lot = c.post(url, factories.finalise_form(draft))
    assert no_lot.status_code == 400
    assert "Lot number: is required to finalise" in no_lot.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft" and not draft.content_sha256


def test_finalising_signs_the_record_with_a_hash_of_its_content(client_as, world, draft):
    TreatmentSession.objects.filter(pk=draft.pk).update(lot_number="LOT-42")
    response = client_as("pat").post(
        reverse("session-finalise", args=[draft.pk]), factories.finalise_form(draft)
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_final and draft.finalised_by == world.pat.user
    assert draft.finalised_at is not None
    assert len(draft.content_sha256) == 64 and charting.record_intact(draft)
    record = charting.canonical_record(draft)
    assert record["areas"] == [{"area": "cheeks", "depth_mm": "1.00", "tip": "", "passes": 2}]
    assert record["lot_number"] == "LOT-42"
    assert AuditEvent.objects.filter(action="sign", object_id=str(draft.pk)).exists()
    page = client_as("pat").get(reverse("session-detail", args=[draft.pk])).content.decode()
    assert draft.seal_algorithm == "hmac-sha256" and len(draft.seal) == 64
    assert "Record intact" in page and draft.seal in page


def test_a_record_changed_behind_the_apps_back_no_longer_matches_its_hash(client_as, final):
    TreatmentSession.objects.filter(pk=final.pk).update(notes="rewritten later")
    final.refresh_from_db()
    assert charting.record_intact(final) is False
    page = client_as("pat").get(reverse("session-detail", args=[final.pk])).content.decode()
    assert "no longer matches its signature" in page


def test_a_finalised_record_cannot_be_changed_even_by_a_direct_post(client_as, final):
    before = (charting.canonical_record(final), final.content_sha256)
    c = client_as("pat")
    edit = reverse("session-edit", args=[final.pk])
    assert c.get(edit).status_code == 409
    response = c.post(edit, chart_post(depth_cheeks="0.5", notes="rewritten", lot_number="X"))
    assert response.status_code == 409
    assert "cannot be changed" in response.content.decode()
    again = c.post(reverse("session-finalise", args=[final.pk]), factories.finalise_form(final))
    assert again.status_code == 409
    final.refresh_from_db()
    assert (charting.canonical_record(final), final.content_sha256) == before
    assert AuditEvent.objects.filter(action="denied", object_id=str(final.pk)).count() == 3


def test_the_model_layer_refuses_to_change_a_finalised_session(final):
    final.notes = "quietly changed"
    with pytest.raises(charting.SessionLocked):
        final.save()
    area = final.areas.get()
    area.depth_mm = Decimal("2.0")
    with pytest.raises(charting.SessionLocked):
        area.save()
    with pytest.raises(charting.SessionLocked), transaction.atomic():
        area.delete()
    with pytest.raises(charting.SessionLocked):
        charting.update_session(
            factories.actor(final.practitioner), final, charting.stored_chart(final)
        )


def test_a_chart_that_breaks_a_limit_cannot_be_finalised(client_as, draft):
    SessionArea.objects.filter(session=draft).update(depth_mm=Decimal("2.25"))
    draft.lot_number = "LOT-1"
    draft.save()
    response = client_as("pat").post(
        reverse("session-finalise", args=[draft.pk]), factories.finalise_form(draft)
    )
    assert response.status_code == 400
    assert "Depth for Cheeks (mm): 2.25 mm is above the maximum" in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_final


# --- Addenda --------------------------------------------------------------------------------


def test_addenda_are_added_to_a_finalised_record_in_order(client_as, world, final):
    url = reverse("session-addendum", args=[final.pk])
    assert (
        client_as("pat").post(url, {"text": "Mild swelling reported on day 2."}).status_code == 302
    )
    assert client_as("alice").post(url, {"text": "Reviewed at follow-up."}).status_code == 302
    addenda = list(final.addenda.order_by("created_at", "pk"))
    assert [(a.author, a.text) for a in addenda] == [
        (world.pat.user, "Mild swelling reported on day 2."),
        (world.alice.user, "Reviewed at follow-up."),
    ]
    page = client_as("pat").get(reverse("session-detail", args=[final.pk])).content.decode()
    assert page.index("Mild swelling") < page.index("Reviewed at follow-up")
    assert charting.record_intact(TreatmentSession.objects.get(pk=final.pk))
    assert AuditEvent.objects.filter(action="create", object_type="SessionAddendum").count() == 2


def test_an_empty_addendum_or_one_on_a_draft_is_refused(client_as, world, final):
    draft = TreatmentSession.objects.create(
        patient=world.nora, practitioner=world.pat, modality="microneedling", device="automated_pen"
    )
    c = client_as("pat")
    empty = c.post(reverse("session-addendum", args=[final.pk]), {"text": "  "})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    on_draft = c.post(reverse("session-addendum", args=[draft.pk]), {"text": "note"})
    assert on_draft.status_code == 400 and "addenda follow finalising" in on_draft.content.decode()
    assert not final.addenda.exists() and not draft.addenda.exists()


def test_addenda_by_front_desk_or_another_clinic_are_refused(client_as, final):
    url = reverse("session-addendum", args=[final.pk])
    assert client_as("fran").post(url, {"text": "x"}).status_code == 403
    assert client_as("oscar").post(url, {"text": "x"}).status_code == 404
    assert not final.addenda.exists()


def test_viewing_a_session_is_audited_without_patient_data(client_as, world, final):
    client_as("alice").get(reverse("session-detail", args=[final.pk]))
    event = AuditEvent.objects.filter(action="view", object_type="TreatmentSession").get()
    assert event.user == world.alice.user and event.patient_id_ref == world.nora.pk
    assert "Nora" not in event.summary and "Quinn" not in event.summary


def test_the_record_page_lists_sessions_done_and_to_come_for_clinical_staff_only(
    world, final, client_as
):
    active = give_plan(world.nora, world.pat.user)
    TreatmentSession.objects.filter(pk=final.pk).update(plan=active)
    later = timezone.now() + timedelta(days=28)
    booked = Appointment.objects.create(
        clinic=world.northgate,
        patient=world.nora,
        practitioner=world.pat,
        start=later,
        end=later + timedelta(hours=1),
    )
    record = reverse("patient-detail", args=[world.nora.pk])
    html = client_as("pat").get(record).content.decode()
    assert reverse("session-detail", args=[final.pk]) in html and "Finalised" in html
    sessions = active.content["courses"][0]["sessions"]
    assert f"1 of {sessions} planned sessions signed" in html
    assert later.strftime("%Y") in html and "Treatment session with Pat Practitioner" in html
    # a future appointment is not charted yet; today's would offer the link
    assert f"?appointment={booked.pk}" not in html
    assert reverse("session-create", args=[world.nora.pk]) in html
    hidden = client_as("fran").get(record).content.decode()
    assert "Treatment sessions" not in hidden and "planned sessions signed" not in hidden
    assert reverse("session-detail", args=[final.pk]) not in hidden


def test_the_session_page_offers_a_photo_for_this_session(client_as, draft):
    page = client_as("pat").get(reverse("session-detail", args=[draft.pk]))
    upload = reverse("photo-upload", args=[draft.patient_id])
    assert f'href="{upload}?session={draft.pk}&amp;stage=after"' in page.content.decode()
    form = client_as("pat").get(upload, {"session": draft.pk, "stage": "after"})
    assert form.context["form"].initial["session"] == draft
