"""Registering a patient, changing demographics and erasing a patient: the only writers of
`Patient` rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date

from django.db import transaction
from django.db.models import ProtectedError

from dermis.web.clinic import clock, recall_sync
from dermis.web.clinic.actors import ADMIN_ONLY, ANY_STAFF, PUBLIC, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.charting import photos as photo_store
from dermis.web.clinic.errors import ServiceError, conflict, forbidden
from dermis.web.clinic.models import (
    PHOTOTYPES,
    SEXES,
    AuditEvent,
    Patient,
    SessionAddendum,
    TreatmentSession,
)

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
    """A new patient of the actor's clinic. Any member of staff may register one; so may a member
    of the public booking a first consultation online, who must give an email and a phone."""
    actor.require((*ANY_STAFF, PUBLIC), "registering patients")
    clean = _validated(actor, data, creating=True)
    if actor.role == PUBLIC:
        for name in ("email", "phone"):
            if not clean.get(name):
                raise ServiceError(name, "is required")
    with transaction.atomic():
        patient = Patient.objects.create(clinic=actor.clinic, created_by=actor.user, **clean)
        record(actor, Action.CREATE, patient, summary="patient registered")
    return patient


CONTACT_FIELDS = ("email", "phone")


def _guard_contact_change(actor: Actor, patient: Patient, clean: Mapping) -> None:
    """Pre-care and aftercare advice goes to the patient's email and phone: front desk may fill
    in a missing one, but replacing one needs a clinical role."""
    if actor.is_clinical:
        return
    for name in CONTACT_FIELDS:
        old = getattr(patient, name) or ""
        if name in clean and old and (clean[name] or "") != old:
            raise ServiceError(
                name,
                "can be changed only by a practitioner or the clinic admin once set: care "
                "advice is sent to it (front desk may fill in a missing one)",
            )


def update_patient(actor: Actor, patient: Patient, **changes) -> Patient:
    """Change the given demographics (and, for clinical staff, the phototype)."""
    actor.require(ANY_STAFF, "changing demographics")
    actor.own(patient, "patient")
    clean = _validated(actor, changes, creating=False)
    changed = sorted(k for k, v in clean.items() if getattr(patient, k) != v)
    _guard_contact_change(actor, patient, clean)
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
        if {"fitzpatrick", "date_of_birth", "sex"} & set(changed):  # the forecast's inputs
            recall_sync.changed(patient)
    return patient


def erase_patient(actor: Actor, patient: Patient, *, confirm: str) -> dict:
    """Delete the patient and everything recorded about them, in one transaction with its audit
    row; the photo files go once it commits. The audit trail (ids only) is kept. Admins only;
    `confirm` must be exactly "erase patient <id>". 409 (nothing erased) if a kind of record
    erasure does not know yet still points at the patient."""
    actor.require(ADMIN_ONLY, "erasing patients")
    actor.own(patient, "patient")
    pk = patient.pk
    if confirm != f"erase patient {pk}":
        raise ServiceError("confirm", f'must be exactly "erase patient {pk}"')
    counts: Counter[str] = Counter()
    try:
        with transaction.atomic():
            photos = list(patient.photos.values_list("storage_name", flat=True))
            photos += [n for n in patient.check_ins.values_list("photo_name", flat=True) if n]
            # A finalised session is locked against every change (charting/records.py); erasure
            # is the one it must allow, so unlock with an update, which sends no signal.
            patient.sessions.update(status=TreatmentSession.Status.DRAFT)
            for name, rows in (
                ("photos", patient.photos.all()),
                ("grades", patient.grades.all()),
                ("addenda", SessionAddendum.objects.filter(session__patient=patient)),
                ("sessions", patient.sessions.all()),
                ("reminders", patient.reminders.all()),
                ("appointments", patient.appointments.all()),
                ("calendar_feeds", patient.feeds.all()),
                ("rechecks", patient.rechecks.all()),
                ("overrides", patient.safety_overrides.all()),
                ("check_ins", patient.check_ins.all()),
                ("portal_answers", patient.portal_intakes.all()),
                ("portal_links", patient.portal_links.all()),
                ("erasure_requests", patient.erasure_requests.all()),
            ):
                counts[name] = rows.count()
                rows.delete()
            for plan in patient.plans.order_by("-version"):  # each version protects the one before
                plan.delete()
                counts["plans"] += 1
            for name, rows in (
                ("consents", patient.consents),
                ("consultations", patient.consultations),
            ):
                counts[name] = rows.count()
                rows.all().delete()
            erased = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
            record(actor, Action.ERASE, patient, summary=f"erased {erased}".strip())
            patient.delete()
            transaction.on_commit(lambda: [photo_store.discard(name) for name in photos])
    except ProtectedError:
        raise conflict(
            "patient",
            "the record holds data that erasure cannot remove yet; nothing was erased",
            code="erasure-blocked",
        ) from None
    kept = AuditEvent.objects.filter(patient_id_ref=pk).count()
    return {"patient_id": pk, "erased": dict(counts), "audit_events_kept": kept}
