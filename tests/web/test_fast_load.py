"""Instances built by `FastLoad.from_db` (clinic/models/loading.py) are Django's own: the same
columns, the same state, saved by UPDATE; a deferred column or a signal's receiver takes Django's
way."""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.db.models.signals import post_init
from django.urls import reverse

from dermis.web.clinic.models import Patient
from dermis.web.clinic.models.loading import FastLoad
from tests.web.full_world import journey


def _djangos(model, db, names, values):
    return models.Model.from_db.__func__(model, db, names, values)


def _fields(obj) -> dict:
    return {k: v for k, v in vars(obj).items() if k != "_state"}


def test_every_model_loads_as_django_loads_it(world, settings, tmp_path, client_as):
    settings.PHOTO_ROOT = tmp_path / "photos"
    journey(world.nora, world.pat)
    client_as("pat").get(reverse("patient-detail", args=[world.nora.pk]))  # an audit event
    compared = set()
    for config in ("clinic", "api"):
        for model in apps.get_app_config(config).get_models():
            assert issubclass(model, FastLoad), model
            names = [f.attname for f in model._meta.concrete_fields]
            for values in model.objects.values_list(*names)[:5]:
                fast = model.from_db("default", names, values)
                slow = _djangos(model, "default", names, values)
                assert type(fast) is type(slow)
                assert _fields(fast) == _fields(slow), model
                assert (fast._state.adding, fast._state.db) == (False, "default")
                assert fast == slow and fast.pk is not None
                compared.add(model.__name__)
    # Enough kinds of row that the comparison means something.
    assert {"Patient", "Appointment", "TreatmentSession", "TreatmentPlan", "AuditEvent"} <= compared
    assert len(compared) >= 15, sorted(compared)


def test_a_loaded_instance_saves_by_update_and_reads_its_relations(world):
    nora = Patient.objects.get(pk=world.nora.pk)
    assert nora.clinic.name == world.northgate.name  # the relation read and cached
    assert nora._state.fields_cache["clinic"] is nora.clinic
    nora.given_name = "Norah"
    nora.save(update_fields=["given_name"])
    assert Patient.objects.get(pk=nora.pk).given_name == "Norah"


def test_deferred_columns_and_signal_receivers_take_djangos_way(world):
    partial = Patient.objects.only("given_name").get(pk=world.nora.pk)
    assert "family_name" not in vars(partial)
    assert partial.family_name == world.nora.family_name  # read when asked, as Django reads it
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Patient)
    try:
        Patient.objects.get(pk=world.nora.pk)
    finally:
        post_init.disconnect(receiver, sender=Patient)
    assert seen == [world.nora.pk]
