"""Merging a duplicate record into the one to keep: admins only, one transaction, audited on both
ids; every kind of record that points at a patient moves (a test walks Patient's relations, so a
new kind cannot be forgotten); the merged-away id leads to the kept record (web 302, API 308)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.web.api.models import ExternalId
from dermis.web.clinic import models as m
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.charting.services import record_recheck
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.patients import services
from tests.personas import stored_patient
from tests.web.full_world import journey


def _relations() -> dict:
    return {rel.get_accessor_name(): rel for rel in m.Patient._meta.related_objects}


def test_the_merge_knows_every_kind_of_record_that_points_at_a_patient():
    # A new model with a foreign key to Patient must be taught to merge_patients (and created in
    # `duplicate` below, so the move is tested).
    assert set(_relations()) == set(services.MERGED_RELATIONS)


def _pointing_at(patient_id: int) -> dict[str, int]:
    return {
        name: rel.related_model._base_manager.filter(**{rel.field.name: patient_id}).count()
        for name, rel in _relations().items()
    }


@pytest.fixture
def duplicate(world):
    """Nora registered a second time, with a whole journey and every other kind of record."""
    dup = stored_patient(
        clinic=world.northgate, given_name="Nora", family_name="Quinn",
        date_of_birth=date(1985, 3, 14), address="1 High St",
    )  # fmt: skip
    journey(dup, world.pat)
    record_recheck(Actor.of_staff(world.pat), dup, changed=False, answers={})
    m.SafetyOverride.objects.create(
        patient=dup, rule="r", modality="microneedling", reason="because"
    )
    m.Reminder.objects.create(
        key=f"k-{uuid.uuid4()}", patient=dup, kind="appointment", due_at=timezone.now()
    )
    m.CalendarFeed.objects.create(
        token_sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(), patient=dup
    )
    ExternalId.objects.create(
        clinic=world.northgate, kind="patient", system="s", value="v", object_id=dup.pk
    )
    m.RecallContact.objects.create(clinic=world.northgate, patient=dup, outcome="called")
    m.RecallEntry.objects.create(
        clinic=world.northgate, patient=dup, section="maintenance", basis="cadence",
        modality="microneedling",
    )  # fmt: skip
    older = stored_patient(
        clinic=world.northgate, given_name="N", family_name="Quinn", date_of_birth=date(1985, 3, 14)
    )
    services.merge_patients(Actor.of_staff(world.alice), dup, older)  # an earlier merge
    return dup


def test_everything_moves_to_the_kept_record_and_nothing_is_lost(world, duplicate):
    keep = world.nora
    journey(keep, world.alice)  # both have a plan version 1, active (alice: another diary)
    away_pk = duplicate.pk
    before_away, before_keep = _pointing_at(away_pk), _pointing_at(keep.pk)
    # The portal's and the waitlist's records (merged in at the same time as this test) are
    # moved like the others but not yet created here.
    portal = {"portal_links", "portal_intakes", "check_ins", "erasure_requests", "waitlist_entries"}
    missing = sorted(name for name, n in before_away.items() if not n and name not in portal)
    assert not missing, f"the fixture must create a {missing} for the merged-away record"

    out = services.merge_patients(Actor.of_staff(world.alice), keep, duplicate)

    assert not m.Patient.objects.filter(pk=away_pk).exists()
    after_keep = _pointing_at(keep.pk)
    for name, count in before_away.items():
        if name in services.DERIVED:  # computed again for the kept record, not carried over
            assert _pointing_at(away_pk)[name] == 0
            continue
        expected = before_keep[name] + count + (1 if name == "merged_from" else 0)
        assert after_keep[name] == expected, name
        assert _pointing_at(away_pk)[name] == 0
    assert out["moved"]["appointments"] == before_away["appointments"]
    assert ExternalId.objects.get(system="s", value="v").object_id == keep.pk
    # Plan versions follow the kept record's; only the kept record's plan stays active.
    plans = list(keep.plans.order_by("version").values_list("version", "status"))
    assert plans == [(1, "active"), (2, "superseded")]
    keep.refresh_from_db()
    assert keep.address == "1 High St" and out["filled_in"] == ["address"]
    kept = m.PatientMerge.objects.get(merged_id=away_pk)
    assert kept.kept_id == keep.pk and kept.demographics["address"] == "1 High St"


def test_the_merge_is_audited_on_both_ids_without_patient_data(world, duplicate):
    away_pk = duplicate.pk
    services.merge_patients(Actor.of_staff(world.alice), world.nora, duplicate)
    on_away = m.AuditEvent.objects.get(patient_id_ref=away_pk, summary__startswith="merged into")
    on_keep = m.AuditEvent.objects.get(
        patient_id_ref=world.nora.pk, summary__startswith=f"merged patient {away_pk}"
    )
    assert on_away.summary == f"merged into patient {world.nora.pk}"
    assert "Quinn" not in on_keep.summary and "appointments 1" in on_keep.summary


@pytest.mark.parametrize("persona", ["pat", "fran"])
def test_only_an_admin_merges(world, duplicate, persona):
    with pytest.raises(ServiceError) as refused:
        services.merge_patients(Actor.of_staff(getattr(world, persona)), world.nora, duplicate)
    assert refused.value.status == 403
    assert m.Patient.objects.filter(pk=duplicate.pk).exists()


def test_a_record_is_not_merged_into_itself_nor_across_clinics(world):
    admin = Actor.of_staff(world.alice)
    with pytest.raises(ServiceError) as itself:
        services.merge_patients(admin, world.nora, world.nora)
    assert (itself.value.status, itself.value.field) == (422, "merge_away_id")
    with pytest.raises(ServiceError) as elsewhere:
        services.merge_patients(admin, world.nora, world.rhys)
    assert elsewhere.value.status == 404
    assert m.Patient.objects.filter(pk=world.rhys.pk).exists()


def test_nothing_moves_when_the_audit_row_cannot_be_written(world, duplicate, monkeypatch):
    before = _pointing_at(duplicate.pk)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "record", broken)
    with pytest.raises(RuntimeError):
        services.merge_patients(Actor.of_staff(world.alice), world.nora, duplicate)
    assert _pointing_at(duplicate.pk) == before
    assert not m.PatientMerge.objects.filter(merged_id=duplicate.pk).exists()


def test_the_merge_page_merges_and_the_old_id_redirects(world, duplicate, client_as):
    client = client_as("alice")
    url = reverse("patient-merge", args=[world.nora.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"merge_away_id": duplicate.pk, "confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("patient-detail", args=[world.nora.pk])
    old = client.get(reverse("patient-edit", args=[duplicate.pk]), {"tab": "x"})
    assert old.status_code == 302
    assert old["Location"] == reverse("patient-edit", args=[world.nora.pk]) + "?tab=x"
    # Another clinic's staff learn nothing from the old id.
    assert client_as("oscar").get(reverse("patient-detail", args=[duplicate.pk])).status_code == 404


def test_the_merge_page_shows_a_refusal_beside_the_field(world, client_as):
    url = reverse("patient-merge", args=[world.nora.pk])
    response = client_as("alice").post(url, {"merge_away_id": world.nora.pk, "confirm": "on"})
    assert response.status_code == 400
    assert "merge_away_id" in response.context["form"].errors
    unconfirmed = client_as("alice").post(url, {"merge_away_id": world.rhys.pk})
    assert "confirm" in unconfirmed.context["form"].errors


def test_the_api_merges_and_the_old_id_answers_308_naming_the_kept_one(world, duplicate, api_as):
    api = api_as("alice")
    response = api.post(f"/api/v1/patients/{world.nora.pk}/merge", {"merge_away_id": duplicate.pk})
    assert response.status_code == 200, response.content
    assert response.json()["merged_id"] == duplicate.pk
    old = api.get(f"/api/v1/patients/{duplicate.pk}")
    assert old.status_code == 308
    assert old["Location"] == f"/api/v1/patients/{world.nora.pk}"
    assert old.json()["errors"][0]["kept_id"] == world.nora.pk
    assert api_as("oscar").get(f"/api/v1/patients/{duplicate.pk}").status_code == 404


def test_the_api_refuses_front_desk_and_names_the_field(world, duplicate, api_as):
    url = f"/api/v1/patients/{world.nora.pk}/merge"
    assert api_as("fran").post(url, {"merge_away_id": duplicate.pk}).status_code == 403
    itself = api_as("alice").post(url, {"merge_away_id": world.nora.pk})
    assert itself.status_code == 422
    assert itself.json()["errors"][0]["field"] == "body.merge_away_id"


def test_a_later_merge_of_the_kept_record_carries_the_old_ids_along(world, duplicate):
    admin = Actor.of_staff(world.alice)
    first = services.merge_patients(admin, world.nora, duplicate)
    third = stored_patient(
        clinic=world.northgate, given_name="Nora", family_name="Q",
        date_of_birth=date(1985, 3, 14) + timedelta(days=0),
    )  # fmt: skip
    services.merge_patients(admin, third, world.nora)
    targets = set(m.PatientMerge.objects.values_list("kept_id", flat=True))
    assert targets == {third.pk}
    assert first["merged_id"] in set(m.PatientMerge.objects.values_list("merged_id", flat=True))
