"""Finalised sessions and signed consents are sealed with a keyed hash (HMAC-SHA256), checked on
the pages and through the API; an unkeyed hash recomputed by whoever changed the row is not
enough to make a changed record read intact."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dermis.web.clinic import seals
from dermis.web.clinic.charting import services as charting
from dermis.web.clinic.charting.records import canonical_record
from dermis.web.clinic.consultations.consent_records import consent_integrity
from dermis.web.clinic.models import ConsentRecord, TreatmentSession
from tests import factories


@pytest.fixture
def final(world):
    factories.consultation(world.pat, world.nora)
    return factories.finalised(world.pat, factories.session(world.pat, world.nora))


def _integrity(api, kind: str, pk: int) -> dict:
    response = api.get(f"/api/v1/{kind}/{pk}/integrity")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_finalised_session_is_sealed_and_reads_intact_through_the_api(world, final, api_as):
    assert final.seal_algorithm == "hmac-sha256"
    assert final.seal == seals.seal("session-record", canonical_record(final))
    assert final.seal != final.content_sha256  # keyed: not the plain hash of the same content
    body = _integrity(api_as("pat"), "sessions", final.pk)
    assert body["intact"] is True and body["algorithm"] == "hmac-sha256"
    assert body["object_type"] == "session" and body["id"] == final.pk


def test_a_changed_record_with_a_recomputed_plain_hash_still_reads_not_intact(
    world, final, api_as, settings
):
    TreatmentSession.objects.filter(pk=final.pk).update(notes="rewritten later")
    final.refresh_from_db()
    # whoever changed the row recomputes the unkeyed hash too: no longer enough
    TreatmentSession.objects.filter(pk=final.pk).update(
        content_sha256=charting.content_sha256(final)
    )
    final.refresh_from_db()
    assert charting.record_intact(final) is False
    response = api_as("pat").get(f"/api/v1/sessions/{final.pk}/integrity")
    assert response.json()["intact"] is False
    assert settings.DERMIS_RECORD_KEY not in response.content.decode()


def test_the_seal_depends_on_the_key(final, settings):
    settings.DERMIS_RECORD_KEY = "another-key-" + "x" * 30
    assert charting.integrity(final).intact is False


def test_a_draft_has_nothing_sealed(world, api_as):
    factories.consultation(world.pat, world.nora)
    draft = factories.session(world.pat, world.nora)
    body = _integrity(api_as("pat"), "sessions", draft.pk)
    assert body["intact"] is None and body["algorithm"] == ""


def test_a_record_from_before_seals_is_checked_by_its_unkeyed_hash_and_says_so(final, api_as):
    TreatmentSession.objects.filter(pk=final.pk).update(seal="", seal_algorithm="sha256")
    body = _integrity(api_as("pat"), "sessions", final.pk)
    assert body == {**body, "intact": True, "algorithm": "sha256"}


def test_the_migration_re_keys_intact_old_rows_and_leaves_changed_ones_unkeyed(world, final):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("dermis.web.clinic.migrations.0010_tamper_evidence")
    someone = factories.patient(world.pat)
    factories.consultation(world.pat, someone)
    other = factories.finalised(world.pat, factories.session(world.pat, someone))
    TreatmentSession.objects.filter(pk__in=[final.pk, other.pk]).update(seal="", seal_algorithm="")
    TreatmentSession.objects.filter(pk=other.pk).update(notes="changed before the upgrade")
    migration.seal_existing(apps, None)
    final.refresh_from_db()
    other.refresh_from_db()
    assert final.seal_algorithm == "hmac-sha256" and charting.integrity(final).intact is True
    assert other.seal_algorithm == "sha256" and other.seal == ""
    assert charting.integrity(other).intact is False  # not laundered into a fresh seal


def test_a_signed_consent_is_sealed_over_text_signature_and_signer(world, api_as, client_as):
    plan = factories.accepted_plan(world.pat, world.nora)
    consent = ConsentRecord.objects.get(pk=plan.consent_id)
    assert consent.seal_algorithm == "hmac-sha256"
    assert _integrity(api_as("pat"), "consents", consent.pk)["intact"] is True
    ConsentRecord.objects.filter(pk=consent.pk).update(signer_name="Someone Else")
    consent.refresh_from_db()
    assert consent_integrity(consent).intact is False
    body = _integrity(api_as("pat"), "consents", consent.pk)
    assert body["intact"] is False and body["algorithm"] == "hmac-sha256"
    page = client_as("pat").get(reverse("consent-detail", args=[consent.pk])).content.decode()
    assert "Does not match its seal" in page


def test_front_desk_and_another_clinic_cannot_check_integrity(world, final, api_as):
    assert api_as("fran").get(f"/api/v1/sessions/{final.pk}/integrity").status_code == 403
    assert api_as("oscar").get(f"/api/v1/sessions/{final.pk}/integrity").status_code == 404


def test_a_seal_is_the_hmac_of_the_content_under_the_purposes_own_key(settings):
    import hashlib
    import hmac

    from dermis.web.clinic import seals

    data = b'{"a":1}'
    for key in ("first-record-key-" + "x" * 30, "second-record-key-" + "y" * 30):
        settings.DERMIS_RECORD_KEY = key  # a derived key remembered for one is not the other's
        derived = hmac.new(key.encode(), b"dermis.seal.audit-chain", hashlib.sha256).digest()
        expected = hmac.new(derived, data, hashlib.sha256).hexdigest()
        assert seals.seal("audit-chain", data) == expected
        assert seals.seal("session", data) != expected
