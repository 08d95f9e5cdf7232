"""Erasing a patient through the service: admins only, with its audit row in the same transaction,
and every kind of record about the patient (chair-side checks and overrides too)."""

from __future__ import annotations

from datetime import date

import pytest

from dermis.web.api.models import ExternalId
from dermis.web.clinic import models as m
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.charting.services import record_recheck
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.patients import services as patients
from tests import factories


def _confirm(patient) -> str:
    return f"erase patient {patient.pk}"


@pytest.mark.parametrize("persona", ["pat", "fran"])
def test_only_an_admin_erases(world, persona):
    with pytest.raises(ServiceError) as refused:
        patients.erase_patient(
            Actor.of_staff(getattr(world, persona)), world.nora, confirm=_confirm(world.nora)
        )
    assert refused.value.status == 403
    assert m.Patient.objects.filter(pk=world.nora.pk).exists()


def test_the_confirmation_names_the_patient(world):
    with pytest.raises(ServiceError, match="erase patient") as refused:
        patients.erase_patient(Actor.of_staff(world.alice), world.nora, confirm="erase patient")
    assert refused.value.field == "confirm"
    assert m.Patient.objects.filter(pk=world.nora.pk).exists()


def test_erases_checks_at_the_chair_and_external_ids_and_keeps_one_audit_row(world):
    nora, pk = world.nora, world.nora.pk
    factories.consultation(world.pat, nora, as_of=date.today())
    record_recheck(Actor.of_staff(world.pat), nora, changed=False, answers={})
    ExternalId.objects.create(
        clinic=world.northgate, kind="patient", system="s", value="v", object_id=nora.pk
    )

    out = patients.erase_patient(
        Actor.of_staff(world.alice, channel="cli"), nora, confirm=_confirm(nora)
    )

    assert out["erased"]["rechecks"] == 1 and out["erased"]["consultations"] == 1
    assert not m.Patient.objects.filter(pk=pk).exists()
    assert not ExternalId.objects.filter(object_id=pk).exists()
    erased = m.AuditEvent.objects.get(patient_id_ref=pk, action="erase")
    assert erased.summary.startswith("cli: erased ") and "Quinn" not in erased.summary


def test_nothing_is_erased_when_the_audit_row_cannot_be_written(world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(patients, "record", broken)

    with pytest.raises(RuntimeError):
        patients.erase_patient(
            Actor.of_staff(world.alice), world.nora, confirm=_confirm(world.nora)
        )
    assert m.Patient.objects.filter(pk=world.nora.pk).exists()
