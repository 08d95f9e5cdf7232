"""Import Patient and Appointment resources from another system's FHIR Bundle.

Two steps, so a bad bundle writes nothing: `read_bundle` checks every entry and returns what to
write (or raises BundleInvalid listing each error by entry and field); `apply` writes all of it
in one transaction. Each record is keyed by its identifier (system + value), kept in ExternalId,
so importing the same bundle twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from fhir.resources.bundle import Bundle
from pydantic import ValidationError

from dermis.core.patient import field_name
from dermis.web.api.models import ExternalId
from dermis.web.clinic import models as m
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.patients import services as patients
from dermis.web.clinic.scheduling import services as scheduling
from dermis.web.fhir import codes as c
from dermis.web.fhir.export import GENDER

IMPORTED = ("Patient", "Appointment")
REFERENCE_ONLY = ("Practitioner", "PractitionerRole")
SEX = {v: k for k, v in GENDER.items()} | {"unknown": "x"}
# FHIR status -> Dermis status (the export maps several of ours onto one FHIR code; an import
# takes the plainest of them).
STATUS = {
    "booked": "booked",
    "fulfilled": "done",
    "cancelled": "cancelled",
    "noshow": "no_show",
    "pending": "booked",
}
KINDS = frozenset(m.Appointment.Kind.values)
MAX_ENTRIES = 2000
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)


class BundleInvalid(Exception):
    def __init__(self, errors: list[dict]) -> None:
        super().__init__(f"{len(errors)} error(s) in the bundle")
        self.errors = errors


@dataclass
class PatientRow:
    index: int
    key: tuple[str, str]
    fields: dict


@dataclass
class AppointmentRow:
    index: int
    key: tuple[str, str]
    patient: int | tuple[str, str]  # an entry index, or an identifier imported before
    practitioner: m.StaffMember
    fields: dict


@dataclass
class ImportPlan:
    patients: list[PatientRow] = field(default_factory=list)
    appointments: list[AppointmentRow] = field(default_factory=list)


@dataclass
class ImportResult:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)


class _Errors(list):
    def add(self, where: str, message: str) -> None:
        self.append({"field": where, "message": message})


def _key(resource, where: str, errors: _Errors) -> tuple[str, str] | None:
    for ident in resource.identifier or []:
        if ident.system and ident.value:
            if len(ident.system) > 255 or len(ident.value) > 255:
                errors.add(f"{where}.identifier", "system and value hold at most 255 characters")
                return None
            return ident.system, ident.value
    errors.add(f"{where}.identifier", "needs a system and a value, so a re-import is recognised")
    return None


def _text(value, where: str, limit: int, errors: _Errors, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        errors.add(where, "is required")
    elif len(value) > limit:
        errors.add(where, f"holds at most {limit} characters")
    elif "\x00" in value:
        errors.add(where, "must not contain NUL characters")
    return value[:limit]


def _patient(resource, where: str, errors: _Errors) -> dict:
    name = (resource.name or [None])[0]
    family = _text(name.family if name else "", f"{where}.name[0].family", 100, errors, True)
    given = (name.given or [""])[0] if name else ""
    given = _text(given, f"{where}.name[0].given[0]", 100, errors, True)
    born = resource.birthDate
    if not isinstance(born, date):
        errors.add(f"{where}.birthDate", "is required as a full date (YYYY-MM-DD)")
    elif not EARLIEST <= born <= timezone.localdate():
        errors.add(f"{where}.birthDate", f"must be between {EARLIEST} and today")
    if (resource.gender or "unknown") not in SEX:
        errors.add(f"{where}.gender", "must be female, male, other or unknown")
    telecom = {t.system: t.value for t in reversed(resource.telecom or []) if t.value}
    email = _text(telecom.get("email"), f"{where}.telecom(email)", 254, errors)
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors.add(f"{where}.telecom(email)", "is not a valid email address")
    address = (resource.address or [None])[0]
    lines = []
    if address:
        lines = [address.text] if address.text else [*(address.line or []), address.city]
        lines += [address.postalCode] if not address.text else []
    return {
        "family_name": family,
        "given_name": given,
        "date_of_birth": born,
        "sex": SEX.get(resource.gender or "unknown", "x"),
        "phone": _text(telecom.get("phone"), f"{where}.telecom(phone)", 40, errors),
        "email": email,
        "address": _text(", ".join(x for x in lines if x), f"{where}.address", 300, errors),
    }


def _staff(identifiers, clinic: m.Clinic) -> m.StaffMember | None:
    """The clinical staff member named by this clinic's staff identifier, if any."""
    wanted = c.identifier_system(clinic.slug, "staff")
    for ident in identifiers or []:
        if ident is not None and ident.system == wanted and (ident.value or "").isdigit():
            staff = m.StaffMember.objects.filter(pk=int(ident.value), clinic=clinic).first()
            return staff if staff and staff.is_clinical else None
    return None


class _Resolver:
    """Finds the bundle entry a reference points at: by fullUrl or by "Type/id"."""

    def __init__(self, bundle: Bundle) -> None:
        self.index: dict[str, int] = {}
        for i, entry in enumerate(bundle.entry or []):
            if entry.fullUrl:
                self.index[entry.fullUrl] = i
            if entry.resource is not None and entry.resource.id:
                self.index[f"{entry.resource.get_resource_type()}/{entry.resource.id}"] = i

    def find(self, reference: str | None) -> int | None:
        return self.index.get(reference or "")


def _appointment(bundle, i, resource, clinic, resolver, plan, errors) -> None:
    where = f"entry[{i}].resource"
    key = _key(resource, where, errors)
    status = STATUS.get(resource.status or "")
    if status is None:
        errors.add(f"{where}.status", f"must be one of {', '.join(sorted(STATUS))}")
    start, end = resource.start, resource.end
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        errors.add(f"{where}.start", "start and end are required, with a time zone")
    elif start.tzinfo is None or end.tzinfo is None:
        errors.add(f"{where}.start", "start and end need a time zone offset")
    elif not end > start:
        errors.add(f"{where}.end", "must be after start")
    elif not EARLIEST <= start.date() <= LATEST:
        errors.add(f"{where}.start", f"must be between {EARLIEST} and {LATEST}")
    kind = "treatment"
    for coding in (resource.appointmentType.coding or []) if resource.appointmentType else []:
        if coding.system == c.system("appointment-kind") and coding.code in KINDS:
            kind = coding.code
    patient_ref, staff, refused = None, None, len(errors)
    for k, part in enumerate(resource.participant or []):
        actor, at = part.actor, f"{where}.participant[{k}].actor"
        if actor is None:
            continue
        target = resolver.find(actor.reference)
        target_res = bundle.entry[target].resource if target is not None else None
        role = target_res.get_resource_type() if target_res is not None else actor.type
        role = role or (actor.reference or "").split("/")[0]
        if role == "Patient":
            if target is not None:
                patient_ref = target
            elif actor.identifier and actor.identifier.system and actor.identifier.value:
                patient_ref = (actor.identifier.system, actor.identifier.value)
            else:
                errors.add(at, "refers to no Patient in this bundle and has no identifier")
        elif role in REFERENCE_ONLY:
            idents = [actor.identifier, *(getattr(target_res, "identifier", None) or [])]
            staff = _staff(idents, clinic)
            if staff is None:
                errors.add(at, "needs this clinic's staff identifier of a practitioner")
    if patient_ref is None and len(errors) == refused:
        errors.add(f"{where}.participant", "needs a Patient participant")
    if staff is None and len(errors) == refused:
        errors.add(f"{where}.participant", "needs a Practitioner of this clinic")
    note = (resource.note or [None])[0]
    notes = _text(note.text if note else "", f"{where}.note[0].text", 300, errors)
    if key and status and patient_ref is not None and staff is not None:
        fields = {"status": status, "start": start, "end": end, "kind": kind, "notes": notes}
        plan.appointments.append(AppointmentRow(i, key, patient_ref, staff, fields))


def read_bundle(data: object, clinic: m.Clinic) -> ImportPlan:
    """Check a bundle completely; the writes to make, or BundleInvalid with every error."""
    errors = _Errors()
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise BundleInvalid([{"field": "resourceType", "message": "must be Bundle"}])
    entries = data.get("entry") or []
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise BundleInvalid([{"field": "entry", "message": f"a list of at most {MAX_ENTRIES}"}])
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        kind = res.get("resourceType") if isinstance(res, dict) else None
        if kind not in IMPORTED + REFERENCE_ONLY:
            errors.add(f"entry[{i}].resource.resourceType", "must be Patient or Appointment")
    if errors:
        raise BundleInvalid(errors)
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        raise BundleInvalid(
            [{"field": field_name(e["loc"]), "message": e["msg"]} for e in exc.errors()[:50]]
        ) from None
    except (KeyError, TypeError, ValueError):
        invalid = {"field": "entry", "message": "is not a valid FHIR R5 Bundle"}
        raise BundleInvalid([invalid]) from None
    plan, resolver = ImportPlan(), _Resolver(bundle)
    for i, entry in enumerate(bundle.entry or []):
        resource = entry.resource
        if resource.get_resource_type() == "Patient":
            where = f"entry[{i}].resource"
            key, fields = _key(resource, where, errors), _patient(resource, where, errors)
            if key:
                plan.patients.append(PatientRow(i, key, fields))
        elif resource.get_resource_type() == "Appointment":
            _appointment(bundle, i, resource, clinic, resolver, plan, errors)
    for rows in (plan.patients, plan.appointments):
        seen: set[tuple[str, str]] = set()
        for row in rows:
            if row.key in seen:
                errors.add(f"entry[{row.index}].resource.identifier", "appears twice in the bundle")
            seen.add(row.key)
    if errors:
        raise BundleInvalid(errors)
    return plan


def _mapped(clinic, kind, key):
    ext = ExternalId.objects.filter(clinic=clinic, kind=kind, system=key[0], value=key[1]).first()
    return ext.object_id if ext else None


def _upsert(kind, actor, key, fields, result, create, update):
    pk = _mapped(actor.clinic, kind, key)
    model = m.Patient if kind == "patient" else m.Appointment
    obj = model.objects.filter(pk=pk, clinic=actor.clinic).first() if pk else None
    if obj is None:
        obj = create()
        ExternalId.objects.update_or_create(
            clinic=actor.clinic, kind=kind, system=key[0], value=key[1],
            defaults={"object_id": obj.pk},
        )  # fmt: skip
        result.created.append(obj)
        return obj
    changed = {k: v for k, v in fields.items() if getattr(obj, k) != v}
    if not changed:
        result.unchanged.append(obj)
        return obj
    update(obj, changed)
    result.updated.append(obj)
    return obj


def apply(plan: ImportPlan, actor: Actor) -> ImportResult:
    """Write a checked import in one transaction through the patients and scheduling services
    (the booking rules and the safety gate for appointments still to come); BundleInvalid
    (nothing written) when a service refuses a row."""
    result = ImportResult()
    with transaction.atomic():
        by_index: dict[int, m.Patient] = {}
        for row in plan.patients:
            try:
                by_index[row.index] = _upsert(
                    "patient", actor, row.key, row.fields, result,
                    lambda row=row: patients.register_patient(actor, **row.fields),
                    lambda obj, changed: patients.update_patient(actor, obj, **changed),
                )  # fmt: skip
            except ServiceError as err:
                raise BundleInvalid([_err(row.index, err.field, err.message)]) from None
        for row in plan.appointments:
            patient = by_index.get(row.patient) if isinstance(row.patient, int) else None
            if patient is None and isinstance(row.patient, tuple):
                pk = _mapped(actor.clinic, "patient", row.patient)
                patient = m.Patient.objects.filter(pk=pk, clinic=actor.clinic).first()
            if patient is None:
                raise BundleInvalid([_err(row.index, "participant", "unknown patient")])
            fields = {**row.fields, "practitioner": row.practitioner, "patient": patient}
            try:
                _upsert(
                    "appointment", actor, row.key, fields, result,
                    lambda row=row, patient=patient: scheduling.record_appointment(
                        actor, patient, practitioner=row.practitioner, **row.fields
                    ),
                    lambda obj, changed: scheduling.update_recorded_appointment(
                        actor, obj, **changed
                    ),
                )  # fmt: skip
            except ServiceError as err:
                field = "start" if err.code == "slot-taken" else err.field
                message = "the slot is taken" if err.code == "slot-taken" else err.message
                raise BundleInvalid([_err(row.index, field, message)]) from None
    return result


def _err(index: int, name: str, message: str) -> dict:
    return {"field": f"entry[{index}].resource.{name}", "message": message}
