"""Registering a patient, changing demographics and erasing a patient: the only writers of
`Patient` rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date

from django.apps import apps as django_apps
from django.db import transaction
from django.db.models import F, Max, ProtectedError

from dermis.web.clinic import clock, recall_sync
from dermis.web.clinic.actors import ADMIN_ONLY, ANY_STAFF, PUBLIC, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.charting import photos as photo_store
from dermis.web.clinic.errors import ServiceError, conflict, forbidden, not_found
from dermis.web.clinic.models import (
    PHOTOTYPES,
    SEXES,
    AuditEvent,
    Patient,
    PatientMerge,
    SessionAddendum,
    TreatmentPlan,
    TreatmentSession,
)
from dermis.web.clinic.patients import normalise
from dermis.web.clinic.patients.selectors import likely_duplicates

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


class PossibleDuplicate(ServiceError):
    """409: the clinic already has a patient with the same name and date of birth, email or
    phone. `candidates` are their ids; registering again with `confirm_not_duplicate` goes on."""

    def __init__(self, candidates: list[Patient]) -> None:
        super().__init__(
            "confirm_not_duplicate",
            "this may be a patient the clinic already has: check the records listed, or confirm "
            "that this is a different person",
            status=409,
            code="possible-duplicate",
        )
        self.candidates = [p.pk for p in candidates]
        self.problem_extra = {"candidates": self.candidates}


def keep_normalised(patient: Patient) -> None:
    """Refresh the columns search and the duplicate check compare (before saving `patient`)."""
    patient.search_name = normalise.search_name(patient.given_name, patient.family_name)
    patient.phone_normalised = normalise.phone(patient.phone, patient.clinic.country)


def register_patient(actor: Actor, *, confirm_not_duplicate: bool = False, **data) -> Patient:
    """A new patient of the actor's clinic. Any member of staff may register one; so may a member
    of the public booking a first consultation online, who must give an email and a phone. A
    likely duplicate (`selectors.likely_duplicates`) is refused with 409 unless
    `confirm_not_duplicate`."""
    actor.require((*ANY_STAFF, PUBLIC), "registering patients")
    clean = _validated(actor, data, creating=True)
    if actor.role == PUBLIC:
        for name in ("email", "phone"):
            if not clean.get(name):
                raise ServiceError(name, "is required")
    patient = Patient(clinic=actor.clinic, created_by=actor.user, **clean)
    keep_normalised(patient)
    with transaction.atomic():
        # The public are never told who else is registered: staff merge a duplicate later.
        if not confirm_not_duplicate and actor.role != PUBLIC:
            candidates = likely_duplicates(patient)
            if candidates:
                raise PossibleDuplicate(candidates)
        patient.save()
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
        keep_normalised(patient)
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
    kept = AuditEvent.objects.about_patient(pk).count()
    return {"patient_id": pk, "erased": dict(counts), "audit_events_kept": kept}


# Every kind of record that points at a patient, by its accessor on Patient, and how a merge moves
# it to the kept record. `merge_patients` refuses to run if Patient has a relation not named here,
# and a test compares this with `Patient._meta.related_objects`: a new kind cannot be forgotten.
MOVED = "moved to the kept record"
MERGED_RELATIONS: dict[str, str] = {
    "appointments": MOVED,
    "consultations": MOVED,
    "consents": MOVED,
    "plans": "moved, numbered after the kept record's versions; superseded if it has an active one",
    "sessions": MOVED,
    "photos": MOVED,
    "grades": MOVED,
    "reminders": MOVED,
    "feeds": MOVED,
    "rechecks": MOVED,
    "safety_overrides": MOVED,
    "merged_from": "moved: records merged into the merged-away one lead to the kept one",
    "recall_contacts": MOVED,
    "portal_links": MOVED,
    "portal_intakes": MOVED,
    "check_ins": MOVED,
    "erasure_requests": MOVED,
    "waitlist_entries": MOVED,
    "recall_entries": "derived: dropped, and the kept record's rows computed again",
    "latest_recall_contact": "derived: dropped, and the kept record's newest contact found again",
}
DERIVED = ("recall_entries", "latest_recall_contact")
FILLED_IN = ("phone", "email", "address", "fitzpatrick")


def _patient_relations() -> dict:
    return {rel.get_accessor_name(): rel for rel in Patient._meta.related_objects}


def merge_patients(actor: Actor, keep: Patient, merge_away: Patient) -> dict:
    """Merge `merge_away` into `keep`, in one transaction: every record pointing at it moves to
    `keep`; `keep`'s empty contact fields (and phototype) are filled from it; its demographics
    are kept in a `PatientMerge` row through which its old id leads to `keep`; then it is
    deleted. Audited on both ids. Admins only; both records of the actor's clinic."""
    actor.require(ADMIN_ONLY, "merging patient records")
    actor.own(keep, "keep")
    actor.own(merge_away, "merge_away_id")
    if keep.pk == merge_away.pk:
        raise ServiceError("merge_away_id", "is the record to keep: choose the duplicate")
    relations = _patient_relations()
    unknown = sorted(set(relations) - set(MERGED_RELATIONS))
    if unknown:  # a programming error: a new kind of record nobody taught the merge
        raise RuntimeError(f"merge_patients does not know how to move: {', '.join(unknown)}")
    counts: Counter[str] = Counter()
    with transaction.atomic():
        pair = Patient.objects.select_for_update().filter(pk__in=(keep.pk, merge_away.pk))
        by_pk = {p.pk: p for p in pair.select_related("clinic")}
        if len(by_pk) != 2:
            raise not_found("merge_away_id")
        keep, away = by_pk[keep.pk], by_pk[merge_away.pk]
        _move_plans(keep, away, counts)
        for name, rel in relations.items():
            if name == "plans":
                continue
            rows = rel.related_model._base_manager.filter(**{rel.field.name: away})
            if name in DERIVED:
                rows.delete()
                continue
            counts[name] = rows.update(**{rel.field.name: keep})
        counts["identifiers"] = _move_identifiers(keep, away)
        snapshot = {name: getattr(away, name) for name in (*DEMOGRAPHICS, "fitzpatrick")}
        snapshot["date_of_birth"] = away.date_of_birth.isoformat()
        snapshot["created_at"] = away.created_at.isoformat()
        filled = [n for n in FILLED_IN if not getattr(keep, n) and getattr(away, n)]
        for name in filled:
            setattr(keep, name, getattr(away, name))
        keep_normalised(keep)
        keep.save()
        PatientMerge.objects.create(
            clinic=actor.clinic,
            merged_id=away.pk,
            kept=keep,
            demographics=snapshot,
            merged_by=actor.user,
        )
        moved = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "no records"
        away_pk = away.pk
        record(actor, Action.UPDATE, away, summary=f"merged into patient {keep.pk}")
        record(
            actor,
            Action.UPDATE,
            keep,
            summary=f"merged patient {away_pk} into this record: {moved}"
            + (f"; filled in {', '.join(filled)}" if filled else ""),
        )
        away.delete()
        recall_sync.changed(keep)  # its sessions, plans and bookings changed
        recall_sync.contacts_moved(keep)
    return {"kept_id": keep.pk, "merged_id": away_pk, "moved": dict(counts), "filled_in": filled}


def _move_identifiers(keep: Patient, away: Patient) -> int:
    """Other systems' ids for the merged-away record (kept by the API app, by id rather than by
    foreign key, so an erasure forgets them) now name the kept one, so a re-import finds it."""
    if not django_apps.is_installed("dermis.web.api"):
        return 0
    external_ids = django_apps.get_model("api", "ExternalId")
    rows = external_ids.objects.filter(clinic_id=away.clinic_id, kind="patient", object_id=away.pk)
    return rows.update(object_id=keep.pk)


def _move_plans(keep: Patient, away: Patient, counts: Counter) -> None:
    """Plan versions are numbered per patient: the merged-away record's follow the kept one's.
    One active plan per patient: if the kept record has one, the other's active plans are
    superseded by it."""
    top = keep.plans.aggregate(top=Max("version"))["top"] or 0
    plans = TreatmentPlan.objects.filter(patient=away)
    if keep.plans.filter(status=TreatmentPlan.Status.ACTIVE).exists():
        counts["plans superseded"] = plans.filter(status=TreatmentPlan.Status.ACTIVE).update(
            status=TreatmentPlan.Status.SUPERSEDED
        )
    counts["plans"] = plans.update(patient=keep, version=F("version") + top)
