"""Reads of patients: the search every door uses."""

from __future__ import annotations

from django.db.models import QuerySet

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient
from dermis.web.clinic.patients.filters import PatientFilter


def search(actor: Actor, search: PatientFilter) -> QuerySet[Patient]:
    """The actor's clinic's patients matching `search`, by name."""
    patients = Patient.objects.filter(clinic=actor.clinic).order_by(
        "family_name", "given_name", "pk"
    )
    return search.apply(patients)
