"""The charting, grades and aftercare services: who may, another clinic's record, the safety
gate's refusal (naming the date and the source), and the happy paths."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.core import gate
from dermis.web.clinic.charting import services as charting
from dermis.web.clinic.documents import selectors as documents
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import AuditEvent, Consultation, ScreeningRecheck
from dermis.web.clinic.outcomes import services as outcomes
from tests import factories


def _deferral_day(patient) -> str:
    """The day the isotretinoin finding lifts, as the gate names it ('1 Feb 2027')."""
    finding = next(
        f for f in Consultation.objects.filter(patient=patient).get().screening["findings"]
    )
    return gate.human(timezone.datetime.fromisoformat(finding["until"]).date())


# --- Charting -------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), [("fran", 403), ("oscar", 404)])
def test_charting_is_refused_to_front_desk_and_other_clinics(world, persona, status):
    factories.consultation(world.pat, world.nora)
    who = getattr(world, persona)
    with pytest.raises(ServiceError) as refused:
        charting.create_session(factories.actor(who), world.nora, factories.chart())
    assert refused.value.status == status


def test_a_session_inside_an_isotretinoin_deferral_is_refused_naming_the_date(world):
    factories.deferred_by_isotretinoin(world.pat, world.nora)
    with pytest.raises(ServiceError) as refused:
        factories.session(world.pat, world.nora)
    err = refused.value
    day = _deferral_day(world.nora)
    assert err.field == "performed_at" and err.possible_from is not None
    assert f"not before {day}" in err.message and "waldman2017" in err.message
    assert not world.nora.sessions.exists()


def test_the_isotretinoin_deferral_on_the_page_and_in_the_api(world, client_as, api_as):
    factories.deferred_by_isotretinoin(world.pat, world.nora)
    day = _deferral_day(world.nora)
    when = timezone.localtime() - timedelta(minutes=5)
    page = client_as("pat").post(
        reverse("session-create", args=[world.nora.pk]),
        {
            "modality": "microneedling",
            "performed_at": when.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": "60",
            "device": "automated_pen",
            "endpoint": "none",
            "precare_done": "on",
            "treat_cheeks": "on",
            "depth_cheeks": "1.0",
        },
    )
    assert page.status_code == 400 and f"Not before {day}" in page.content.decode()
    api = api_as("pat").post(
        f"/api/v1/patients/{world.nora.pk}/sessions",
        {
            "modality": "microneedling",
            "device": "automated_pen",
            "performed_at": when.isoformat(),
            "precare_done": True,
            "areas": [{"area": "cheeks", "depth_mm": 1.0}],
        },
    )
    problem = api.json()
    assert api.status_code == 422 and f"not before {day}" in problem["detail"]
    assert problem["type"] == "urn:dermis:problem:not-safe-yet"
    assert problem["errors"][0]["field"] == "body.performed_at"
    assert problem["errors"][0]["possible_from"]


def test_charting_at_short_notice_asks_for_the_precare_and_is_audited(world):
    factories.consultation(world.pat, world.nora)
    with pytest.raises(ServiceError) as refused:
        factories.session(world.pat, world.nora, precare_done=False)
    assert refused.value.field == "precare_done"
    draft = factories.session(world.pat, world.nora)
    assert draft.precare_confirmed and draft.practitioner == world.pat
    assert AuditEvent.objects.filter(action="create", object_id=str(draft.pk)).exists()


def test_a_session_does_not_count_against_itself_when_changed_or_finalised(world):
    factories.consultation(world.pat, world.nora)
    draft = factories.session(world.pat, world.nora)
    final = factories.finalised(world.pat, draft)
    assert final.is_final and charting.record_intact(final)
    assert AuditEvent.objects.filter(action="sign", object_id=str(final.pk)).exists()
    # its aftercare is not withheld because the session itself exists
    context = documents.aftercare_for(factories.actor(world.pat), final)
    assert context["session"] == final and "error" not in context


def _screened_long_ago(world, days: int = 120):
    """A draft charted while the screening was recent, then the screening grows old (as if the
    draft had waited): finalising needs the chair-side check."""
    consultation = factories.consultation(world.pat, world.nora)
    draft = factories.session(world.pat, world.nora, lot_number="LOT-1")
    day = timezone.localdate() - timedelta(days=days)
    screening = {**consultation.screening, "as_of": day.isoformat()}
    Consultation.objects.filter(pk=consultation.pk).update(as_of=day, screening=screening)
    return draft


def test_a_stale_screening_asks_for_the_check_at_the_chair_then_finalises(world, client_as):
    draft = _screened_long_ago(world)
    c = client_as("pat")
    refused = c.post(reverse("session-finalise", args=[draft.pk]), factories.finalise_form(draft))
    assert refused.status_code == 400 and 'id="recheck"' in refused.content.decode()
    recorded = c.post(reverse("session-recheck", args=[draft.pk]), {"note": ""})
    assert recorded.status_code == 302
    assert ScreeningRecheck.objects.get(patient=world.nora).changed is False
    signed = c.post(reverse("session-finalise", args=[draft.pk]), factories.finalise_form(draft))
    assert signed.status_code == 302
    draft.refresh_from_db()
    assert draft.is_final


def test_a_change_at_the_chair_stops_finalising(world):
    draft = _screened_long_ago(world)
    with pytest.raises(ServiceError) as refused:
        charting.finalise_session(
            factories.actor(world.pat),
            draft,
            recheck={"changed": True, "answers": {"pregnancy": True}},
        )
    assert refused.value.field == "recheck" and "new consultation" in refused.value.message


def test_addenda_and_photos_are_refused_to_front_desk(world):
    factories.consultation(world.pat, world.nora)
    final = factories.finalised(world.pat, factories.session(world.pat, world.nora))
    with pytest.raises(ServiceError) as refused:
        charting.add_addendum(factories.actor(world.fran), final, "note")
    assert refused.value.status == 403
    with pytest.raises(ServiceError) as refused:
        charting.upload_photo(
            factories.actor(world.oscar),
            world.nora,
            None,
            area="cheeks",
            stage="before",
            taken_on=timezone.localdate(),
        )
    assert refused.value.status == 404


# --- Aftercare ------------------------------------------------------------------------------


def test_aftercare_is_refused_by_the_gate_on_the_page(world, client_as):
    factories.consultation(world.pat, world.nora)
    final = factories.finalised(world.pat, factories.session(world.pat, world.nora))
    # a later screening finds a contraindication: the page says why instead of the handout
    factories.deferred_by_isotretinoin(world.pat, world.nora, months_ago=0)
    page = client_as("pat").get(reverse("aftercare-detail", args=[final.pk]))
    assert page.status_code == 422 and "Recent isotretinoin" in page.content.decode()
    pdf = client_as("pat").get(reverse("aftercare-pdf", args=[final.pk]))
    assert pdf.status_code == 422


# --- Grades ---------------------------------------------------------------------------------


def test_a_grade_is_recorded_once_checked_and_audited(world):
    plan = factories.accepted_plan(world.pat, world.nora)
    made = factories.grade(world.pat, world.nora, 1)
    assert (made.plan, made.baseline, made.graded_on) == (plan, 2, timezone.localdate())
    assert AuditEvent.objects.filter(action="create", object_type="FollowUpGrade").exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"value": 9}, "grade", "9 is outside the Goodman & Baron"),
        ({"baseline": 0}, "baseline", "0 is outside"),
        ({"graded_on": "tomorrow"}, "graded_on", "cannot be in the future"),
        ({"graded_on": "1900-01-01"}, "graded_on", "before the patient's date of birth"),
        ({"concern": "warts"}, "concern", "unknown concern"),
    ],
)
def test_a_grade_is_refused_naming_its_field(world, change, field, words):
    if change.get("graded_on") == "tomorrow":
        change["graded_on"] = timezone.localdate() + timedelta(days=1)
    elif "graded_on" in change:
        change["graded_on"] = timezone.datetime.fromisoformat(change["graded_on"]).date()
    with pytest.raises(ServiceError) as refused:
        factories.grade(world.pat, world.nora, **change)
    assert refused.value.field == field and words in refused.value.message


@pytest.mark.parametrize(("persona", "status"), [("fran", 403), ("oscar", 404)])
def test_grades_are_refused_to_front_desk_and_other_clinics(world, persona, status):
    with pytest.raises(ServiceError) as refused:
        outcomes.record_grade(
            factories.actor(getattr(world, persona)),
            world.nora,
            area="cheeks",
            concern="acne_scars_rolling",
            grade=2,
        )
    assert refused.value.status == status
