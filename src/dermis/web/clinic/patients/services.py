"""Registering a patient and changing demographics: the only writers of `Patient` rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.db import transaction

from dermis.web.clinic import clock
from dermis.web.clinic.actors import ANY_STAFF, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.errors import ServiceError, forbidden
from dermis.web.clinic.models import PHOTOTYPES, SEXES, Patient

DEMOGRAPHICS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "email_reminders",
    "sms_reminders",
)
REQUIRED = ("given_name", "family_name", "date_of_birth")
OLDEST_YEARS = 120


def check_date_of_birth(dob: date, today: date | None = None) -> None:
    today = today or clock.today()
    if dob > today:
        raise ServiceError("date_of_birth", "cannot be in the future")
    if dob.year < today.year - OLDEST_YEARS:
        raise ServiceError(
            "date_of_birth", f"is more than {OLDEST_YEARS} years ago: check the year"
        )


def _validated(actor: Actor, data: Mapping, creating: bool) -> dict:
    unknown = set(data) - {*DEMOGRAPHICS, "fitzpatrick"}
    if unknown:
        raise ServiceError(sorted(unknown)[0], "is not a known field")
    clean = dict(data)
    for name in REQUIRED:
        if (creating or name in clean) and not clean.get(name):
            raise ServiceError(name, "is required")
    if clean.get("date_of_birth") is not None:
        check_date_of_birth(clean["date_of_birth"])
    if "sex" in clean and clean["sex"] not in dict(SEXES):
        raise ServiceError("sex", f"must be one of {', '.join(dict(SEXES))}")
    if "fitzpatrick" in clean:
        if not actor.is_clinical:
            raise forbidden("only clinical staff record the phototype")
        clean["fitzpatrick"] = clean["fitzpatrick"] or ""
        if clean["fitzpatrick"] and clean["fitzpatrick"] not in dict(PHOTOTYPES):
            raise ServiceError("fitzpatrick", "must be one of I, II, III, IV, V, VI")
    for name in ("given_name", "family_name", "phone", "email", "address"):
        if isinstance(clean.get(name), str):
            clean[name] = clean[name].strip()
    return clean


def register_patient(actor: Actor, **data) -> Patient:
    """A new patient of the actor's clinic. Any member of staff may register one."""
    actor.require(ANY_STAFF, "registering patients")
    clean = _validated(actor, data, creating=True)
    with transaction.atomic():
        patient = Patient.objects.create(clinic=actor.clinic, created_by=actor.user, **clean)
        record(actor, Action.CREATE, patient, summary="patient registered")
    return patient


def update_patient(actor: Actor, patient: Patient, **changes) -> Patient:
    """Change the given demographics (and, for clinical staff, the phototype)."""
    actor.require(ANY_STAFF, "changing demographics")
    actor.own(patient, "patient")
    clean = _validated(actor, changes, creating=False)
    changed = sorted(k for k, v in clean.items() if getattr(patient, k) != v)
    with transaction.atomic():
        for name, value in clean.items():
            setattr(patient, name, value)
        patient.save()
        record(
            actor,
            Action.UPDATE,
            patient,
            summary=f"demographics: {', '.join(changed)[:150] or 'no change'}",
        )
    return patient
