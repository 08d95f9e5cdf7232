"""The models whose lists write a choice's label on every row look it up in a table kept per
field (`models/labels.py`): the label is Django's own for every choice and for any other value."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from dermis.web.clinic.models.labels import QuickLabels

FAST = [m for m in apps.get_app_config("clinic").get_models() if issubclass(m, QuickLabels)]


def test_the_list_models_use_it():
    assert {m.__name__ for m in FAST} >= {"Appointment", "AuditEvent"}


@pytest.mark.parametrize("model", FAST, ids=lambda m: m.__name__)
def test_every_label_is_djangos_own(model):
    fields = [f for f in model._meta.concrete_fields if f.choices]
    assert fields
    for field in fields:
        for value in [*(v for v, _ in field.flatchoices), "not-a-choice", None]:
            row = model(**{field.attname: value})
            ours = getattr(row, f"get_{field.name}_display")()
            assert ours == models.Model._get_FIELD_display(row, field), (field.name, value)
            assert ours == (dict(field.flatchoices).get(value, value)), (field.name, value)
