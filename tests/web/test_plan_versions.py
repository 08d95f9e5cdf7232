"""Plan versions: acceptance and revision add a version, link it, and never touch the old ones."""

from __future__ import annotations

import copy

import pytest
from django.urls import reverse

from dermis.core.patient import Assessment, Intake
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.consultations.services import complete_plan
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import AuditEvent, TreatmentPlan
from tests.web.test_consent import accept, consult

FINE_LINES = Assessment(concerns=[{"area": "cheeks", "concern": "fine_lines", "severity": 3}])


def revise_post(plan: TreatmentPlan, changes: dict, note: str = "") -> dict:
    data = {"note": note}
    for i, course in enumerate(plan.content["courses"]):
        data.update({f"c{i}-sessions": course["sessions"], f"c{i}-reason": ""})
        data[f"c{i}-interval_days"] = course["interval_days"]
        for j, t in enumerate(course["treatments"]):
            what = "depth_mm" if course["modality"] == "microneedling" else "tip"
            data.update({f"c{i}-t{j}-{what}": t[what], f"c{i}-t{j}-reason": ""})
    data.update(changes)
    return data


def revise(client, plan, changes, note=""):
    return client.post(reverse("plan-revise", args=[plan.pk]), revise_post(plan, changes, note))


@pytest.fixture
def first(world, client_as):
    """Version 1, accepted from a consultation on fine lines (0.75 mm, 5 sessions, 28 days)."""
    consultation = consult(world, assessment=FINE_LINES, phototype="II")
    accept(client_as("pat"), consultation)
    return TreatmentPlan.objects.get()


def test_a_revision_adds_a_version_and_leaves_the_old_one_as_it_was(world, client_as, first):
    before = copy.deepcopy((first.content, first.adjustments, first.consent_id, first.created_at))
    response = revise(
        client_as("alice"),
        first,
        {"c0-t0-depth_mm": 0.5, "c0-t0-reason": "flared after session 1"},
        note="reviewed at follow-up",
    )
    second = TreatmentPlan.objects.get(version=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("plan-detail", args=[second.pk])
    first.refresh_from_db()
    assert (first.content, first.adjustments, first.consent_id, first.created_at) == before
    assert first.status == TreatmentPlan.Status.SUPERSEDED
    assert second.status == TreatmentPlan.Status.ACTIVE
    assert second.previous == first and first.next_version == second
    assert second.consent_id == first.consent_id and second.consultation == first.consultation
    assert second.created_by == world.alice.user and second.note == "reviewed at follow-up"
    assert second.content["courses"][0]["treatments"][0]["depth_mm"] == 0.5
    assert [(a["from"], a["to"]) for a in second.adjustments] == [(0.75, 0.5)]
    assert AuditEvent.objects.filter(action="create", object_type="TreatmentPlan").count() == 2


def test_versions_chain_across_revisions_and_new_consultations(world, client_as, first):
    revise(client_as("pat"), first, {"c0-interval_days": 35, "c0-reason": "holidays"})
    second = TreatmentPlan.objects.get(version=2)
    revise(client_as("pat"), second, {"c0-t0-depth_mm": 1.0, "c0-t0-reason": "no reaction"})
    third = TreatmentPlan.objects.get(version=3)
    # every difference from the proposal is kept, each with its own reason
    assert {(a["what"], a["to"], a["reason"]) for a in third.adjustments} == {
        ("interval_days", 35, "holidays"),
        ("depth_mm", 1.0, "no reaction"),
    }
    later = consult(world, intake=Intake(), assessment=FINE_LINES, phototype="II")
    accept(client_as("pat"), later)
    fourth = TreatmentPlan.objects.get(version=4)
    assert fourth.previous == third and fourth.consultation == later and fourth.adjustments == []
    chain = list(TreatmentPlan.objects.order_by("version").values_list("version", "status"))
    assert chain == [(1, "superseded"), (2, "superseded"), (3, "superseded"), (4, "active")]
    assert [p.previous_id for p in TreatmentPlan.objects.order_by("version")] == [
        None,
        first.pk,
        second.pk,
        third.pk,
    ]


def test_an_out_of_bounds_revision_is_refused_with_the_limit_and_nothing_changes(
    world, client_as, first
):
    before = copy.deepcopy(first.content)
    response = revise(client_as("pat"), first, {"c0-sessions": 9, "c0-reason": "more is better"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_c0-sessions_error"' in html
    assert "9 sessions is above the microneedling protocol for fine lines" in html
    assert "Microneedling: sessions: " in html  # the error summary names the field
    assert TreatmentPlan.objects.count() == 1
    first.refresh_from_db()
    assert first.status == "active" and first.content == before


def test_a_revision_must_change_something(client_as, first):
    response = revise(client_as("pat"), first, {})
    assert response.status_code == 400
    assert "nothing was changed" in response.content.decode()
    assert TreatmentPlan.objects.count() == 1


def test_only_the_active_version_can_be_revised(client_as, first):
    revise(client_as("pat"), first, {"c0-interval_days": 35, "c0-reason": "holidays"})
    first.refresh_from_db()
    assert client_as("pat").get(reverse("plan-revise", args=[first.pk])).status_code == 302
    stale = revise(client_as("pat"), first, {"c0-interval_days": 42, "c0-reason": "x"})
    assert stale.status_code == 302
    assert TreatmentPlan.objects.count() == 2


def test_the_plan_page_shows_the_version_its_history_and_its_changes(world, client_as, first):
    revise(client_as("pat"), first, {"c0-t0-depth_mm": 0.5, "c0-t0-reason": "flared"})
    second = TreatmentPlan.objects.get(version=2)
    html = client_as("pat").get(reverse("plan-detail", args=[second.pk])).content.decode()
    assert "Treatment plan, version 2" in html
    assert reverse("plan-detail", args=[first.pk]) in html
    assert 'aria-current="page">Version 2' in html
    assert "flared" in html and "Needle depth (mm)" in html
    assert reverse("consent-detail", args=[first.consent_id]) in html
    assert "Dr.Pen manufacturer needle-depth chart" in html  # sources resolved
    old = client_as("pat").get(reverse("plan-detail", args=[first.pk])).content.decode()
    assert "Superseded" in old and "None: this version is the planner" in old
    assert reverse("plan-revise", args=[first.pk]) not in old
    views = AuditEvent.objects.filter(action="view", object_type="TreatmentPlan")
    assert views.count() == 2 and not any("Nora" in e.summary for e in views)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("alice", 200), ("fran", 403), ("nobody", 403), ("oscar", 404), ("anonymous", 302)],
)
def test_plan_pages_are_for_this_clinics_clinical_staff(client_as, first, persona, status):
    for name in ("plan-detail", "plan-revise"):
        assert client_as(persona).get(reverse(name, args=[first.pk])).status_code == status
    changes = {"c0-interval_days": 35, "c0-reason": "x"}
    if status != 200:
        assert revise(client_as(persona), first, changes).status_code == status
        assert TreatmentPlan.objects.count() == 1


def test_completing_a_plan_keeps_it_as_the_latest_version_and_audits_it(world, first):
    with pytest.raises(ServiceError) as refused:
        complete_plan(Actor.of_staff(world.fran), first)
    assert refused.value.status == 403

    complete_plan(Actor.of_staff(world.pat), first)

    first.refresh_from_db()
    assert first.status == "completed" and TreatmentPlan.objects.count() == 1
    assert AuditEvent.objects.filter(object_id=str(first.pk), summary__contains="completed")
    with pytest.raises(ServiceError, match="completed"):
        complete_plan(Actor.of_staff(world.pat), first)
