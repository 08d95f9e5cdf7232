"""A patient's FHIR bundle is kept by each worker by the patient's record version
(`fhir.kept._version_key`: the numbers the database keeps of the patient's rows and the clinic's
it shows, the patient's and the clinic's rows, the references' kind, the time zone and the
releases): asked again with nothing changed it is not gathered again, and anything it holds
changing gathers it again. Kept only outside a transaction: transactional tests."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient, Reminder, StaffMember
from dermis.web.clinic.patients import services as patients
from dermis.web.fhir import kept
from dermis.web.fhir.export import patient_bundle
from dermis.web.fhir.rest.resources import RestRefs
from tests.api import test_fhir_export
from tests.api.test_fhir_export import _untimed

record = test_fhir_export.record  # the fixture: Nora's journey, exported

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gathers(monkeypatch):
    """How many times a bundle was gathered from its rows (each process's copies cleared)."""
    done, real = [], kept.gathered
    monkeypatch.setattr(kept, "gathered", lambda p, ref: done.append(p.pk) or real(p, ref))
    kept._BY_VERSION.clear()
    yield done
    kept._BY_VERSION.clear()


def _patient(record) -> Patient:
    return Patient.objects.select_related("clinic").get(pk=record.consultation.patient_id)


def test_a_bundle_asked_again_is_not_gathered_and_is_the_one_built_anew(record, gathers):
    p = _patient(record)
    first = kept.patient_bundle_json(p)
    again = kept.patient_bundle_json(p)
    assert len(gathers) == 1 and _untimed(again) == _untimed(first)
    assert "\x00" not in again
    assert _untimed(first) == _untimed(patient_bundle(p).model_dump_json(exclude_none=True))
    # The REST endpoint's references are another bundle.
    rest = kept.patient_bundle_json(p, RestRefs(p.clinic))
    assert len(gathers) == 2 and rest != first
    kept._BY_VERSION.clear(), kept._BUNDLES.clear(), cache.clear()
    assert _untimed(kept.patient_bundle_json(p)) == _untimed(first) and len(gathers) == 3


def test_what_the_rows_hold_changing_gathers_it_again(record, world, gathers):
    p = _patient(record)
    kept.patient_bundle_json(p)
    # The patient's own row.
    patients.update_patient(Actor.of_staff(world.pat), p, family_name="Renamed")
    p = _patient(record)
    renamed = json.loads(kept.patient_bundle_json(p))
    assert len(gathers) == 2 and renamed["entry"][0]["resource"]["name"][0]["family"] == "Renamed"
    # A row of the patient's it holds: a reminder sent.
    Reminder.objects.create(
        key=f"appointment:{record.appointment.pk}:appointment:sms", patient=p,
        appointment=record.appointment, kind=Reminder.Kind.APPOINTMENT,
        channel=Reminder.Channel.SMS, due_at=timezone.now() - timedelta(hours=1),
        status=Reminder.Status.SENT, sent_at=timezone.now(),
    )  # fmt: skip
    sent = kept.patient_bundle_json(p)
    assert len(gathers) == 3 and _untimed(sent) != _untimed(json.dumps(renamed))
    # Another time zone (a signature's date is written in it).
    with timezone.override("Pacific/Kiritimati"):
        kept.patient_bundle_json(p)
    assert len(gathers) == 4
    kept.patient_bundle_json(p)
    assert len(gathers) == 4
    # A row of the clinic's it holds: the name of a member of staff who treated the patient.
    StaffMember.objects.filter(pk=world.pat.pk).update(display_name="Renamed-Practitioner")
    assert "Renamed-Practitioner" in kept.patient_bundle_json(p) and len(gathers) == 5


def test_a_bundle_asked_inside_a_transaction_is_gathered_every_time(record, gathers):
    """There its rows may be uncommitted, and a number rolled back is given again."""
    p = _patient(record)
    with transaction.atomic():
        assert _untimed(kept.patient_bundle_json(p)) == _untimed(kept.patient_bundle_json(p))
    assert len(gathers) == 2 and not kept._BY_VERSION
