"""A patient's record as a FHIR R5 Bundle (type collection), built with fhir.resources.

Pure mapping from model instances: Patient, Organization, Practitioner, PractitionerRole,
Appointment, CarePlan (+ a ServiceRequest per planned treatment, its activities), Procedure (a
session, and one per treated area with depth, tip and passes), Observation (grades, screening
findings), Consent, DocumentReference (photo metadata; the image stays in Dermis) and
Communication (reminders sent). Every resource is validated as it is built.

Each builder says what its resource holds (`Said`: the fhir.resources class and its data) and is
wrapped to give the validated resource; `fhir/kept.py` keeps the JSON of what is said.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable

from django.utils import timezone
from fhir.resources.appointment import Appointment as FAppointment
from fhir.resources.bundle import Bundle
from fhir.resources.careplan import CarePlan
from fhir.resources.communication import Communication
from fhir.resources.consent import Consent
from fhir.resources.documentreference import DocumentReference
from fhir.resources.observation import Observation
from fhir.resources.organization import Organization
from fhir.resources.patient import Patient as FPatient
from fhir.resources.practitioner import Practitioner
from fhir.resources.practitionerrole import PractitionerRole
from fhir.resources.procedure import Procedure
from fhir.resources.resource import Resource
from fhir.resources.servicerequest import ServiceRequest

from dermis.web.clinic import models as m
from dermis.web.clinic.together import read_together
from dermis.web.fhir import codes as c
from dermis.web.fhir import reads

GENDER = {"f": "female", "m": "male", "x": "other"}
APPOINTMENT_STATUS = {
    "booked": "booked",
    "confirmed": "booked",
    "arrived": "arrived",
    "in_treatment": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
PLAN_STATUS = {"active": "active", "superseded": "revoked", "completed": "completed"}
MEDIUM = {"email": "EMAILWRIT", "sms": "SMSWRIT"}

Said = tuple[type[Resource], dict]  # a resource's class and what it holds, not yet validated


def _validated(said: Callable[..., Said | list[Said]]) -> Callable:
    """A builder that gives the validated resource (or resources) of what `said` says; `said`
    itself stays reachable as `.said`."""

    @functools.wraps(said)
    def build(*args, **kwargs):
        out = said(*args, **kwargs)
        if isinstance(out, list):
            return [kind.model_validate(data) for kind, data in out]
        kind, data = out
        return kind.model_validate(data)

    build.said = said
    return build


class Refs:
    """Resource references inside one bundle: the urn:uuid full URL of each resource."""

    def __init__(self, clinic: m.Clinic) -> None:
        self.slug = clinic.slug

    def __call__(self, resource_type: str, *parts: object) -> dict:
        return {"reference": c.full_url(self.slug, resource_type, c.fhir_id(*parts))}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _identifier(clinic: m.Clinic, kind: str, pk: int) -> list[dict]:
    return [{"system": c.identifier_system(clinic.slug, kind), "value": str(pk)}]


def _depth(value) -> dict:
    return {
        "url": c.extension("needle-depth"),
        "valueQuantity": {"value": float(value), "unit": "mm", "system": c.UCUM, "code": "mm"},
    }


def _imported(rows) -> list[dict]:
    """Another system's identifiers of a record, as they were imported."""
    return [{"system": r.system, "value": r.value} for r in rows]


@_validated
def patient(p: m.Patient, ref: Refs, imported=()) -> Said:
    telecom = [{"system": "phone", "value": p.phone}] if p.phone else []
    telecom += [{"system": "email", "value": p.email}] if p.email else []
    return FPatient, (
        {
            "id": c.fhir_id(p.pk),
            "identifier": _identifier(p.clinic, "patient", p.pk) + _imported(imported),
            "name": [{"family": p.family_name, "given": [p.given_name], "text": p.full_name}],
            "gender": GENDER.get(p.sex, "unknown"),
            "birthDate": p.date_of_birth.isoformat(),
            "telecom": telecom or None,
            "address": [{"text": p.address}] if p.address else None,
            "managingOrganization": ref("Organization", p.clinic.pk),
        }
    )


@_validated
def organization(clinic: m.Clinic) -> Said:
    telecom = [{"system": "phone", "value": clinic.phone}] if clinic.phone else []
    telecom += [{"system": "email", "value": clinic.email}] if clinic.email else []
    return Organization, (
        {
            "id": c.fhir_id(clinic.pk),
            "identifier": [{"system": c.identifier_system(clinic.slug, "clinic"), "value": "1"}],
            "name": clinic.name,
            "contact": [{"telecom": telecom}] if telecom else None,
        }
    )


@_validated
def practitioner(s: m.StaffMember) -> Said:
    return Practitioner, (
        {
            "id": c.fhir_id(s.pk),
            "identifier": _identifier(s.clinic, "staff", s.pk),
            "active": s.user.is_active,
            "name": [{"text": s.display_name}],
            "qualification": [{"code": {"text": s.credentials}}] if s.credentials else None,
        }
    )


@_validated
def practitioner_role(s: m.StaffMember, ref: Refs) -> Said:
    return PractitionerRole, (
        {
            "id": c.fhir_id(s.pk),
            "active": s.user.is_active,
            "practitioner": ref("Practitioner", s.pk),
            "organization": ref("Organization", s.clinic_id),
            "code": [c.concept("staff-role", s.role, s.get_role_display())],
        }
    )


@_validated
def appointment(a: m.Appointment, ref: Refs, imported=()) -> Said:
    return FAppointment, (
        {
            "id": c.fhir_id(a.pk),
            "identifier": _identifier(a.clinic, "appointment", a.pk) + _imported(imported),
            "status": APPOINTMENT_STATUS[a.status],
            "appointmentType": c.concept("appointment-kind", a.kind, a.get_kind_display()),
            "start": a.start.isoformat(),
            "end": a.end.isoformat(),
            "created": a.created_at.isoformat(),
            "basedOn": [ref("CarePlan", a.plan_id)] if a.plan_id else None,
            "note": [{"text": a.notes}] if a.notes else None,
            "participant": [
                {"actor": ref("Patient", a.patient_id), "status": "accepted"},
                {"actor": ref("PractitionerRole", a.practitioner_id), "status": "accepted"},
            ],
        }
    )


def _treatments(plan: m.TreatmentPlan):
    for i, course in enumerate(plan.content.get("courses", [])):
        for j, t in enumerate(course.get("treatments", [])):
            yield i, j, course, t


@_validated
def service_request(
    plan: m.TreatmentPlan, i: int, j: int, course: dict, t: dict, ref: Refs
) -> Said:
    """One planned treatment: a concern on an area, its sessions, interval, device and depth."""
    kb_area = t.get("area", "")
    how = f"{t.get('device', '')}" + (f", {t['depth_mm']:g} mm" if t.get("depth_mm") else "")
    how += f", {t['tip']} tip" if t.get("tip") else ""
    repeat = {"count": t.get("sessions") or course.get("sessions") or 1}
    if course.get("interval_days"):
        repeat |= {"period": course["interval_days"], "periodUnit": "d"}
    return ServiceRequest, (
        {
            "id": c.fhir_id("plan", plan.pk, i, j),
            "status": PLAN_STATUS[plan.status],
            "intent": "plan",
            "subject": ref("Patient", plan.patient_id),
            "code": {"concept": c.concept("modality", course.get("modality", "unknown"))},
            "bodySite": [c.body_site(kb_area)],
            "reason": [{"concept": c.concept("concern", t.get("concern", "unknown"))}],
            "occurrenceTiming": {"repeat": repeat},
            "note": [{"text": how}] if how else None,
            "extension": [_depth(t["depth_mm"])] if t.get("depth_mm") else None,
        }
    )


@_validated
def care_plan(plan: m.TreatmentPlan, sessions: list[m.TreatmentSession], ref: Refs) -> Said:
    activities = []
    for i, j, course, _t in _treatments(plan):
        done = [s for s in sessions if s.plan_id == plan.pk and s.modality == course["modality"]]
        activities.append(
            {
                "plannedActivityReference": ref("ServiceRequest", "plan", plan.pk, i, j),
                "performedActivity": [{"reference": ref("Procedure", s.pk)} for s in done] or None,
            }
        )
    return CarePlan, (
        {
            "id": c.fhir_id(plan.pk),
            "status": PLAN_STATUS[plan.status],
            "intent": "plan",
            "title": f"Treatment plan, version {plan.version}",
            "subject": ref("Patient", plan.patient_id),
            "created": plan.created_at.isoformat(),
            "replaces": [ref("CarePlan", plan.previous_id)] if plan.previous_id else None,
            "supportingInfo": [ref("Consent", plan.consent_id)] if plan.consent_id else None,
            "note": [{"text": plan.note}] if plan.note else None,
            "activity": activities or None,
        }
    )


@_validated
def procedures(
    s: m.TreatmentSession,
    ref: Refs,
    areas: list[m.SessionArea] | None = None,
    addenda: list[m.SessionAddendum] | None = None,
) -> list[Said]:
    """The session, then one Procedure per treated area (part of it) with depth, tip, passes.
    `areas` and `addenda`: the session's, when the caller has read them (else they are read)."""
    status = "completed" if s.is_final else "in-progress"
    code = c.concept("modality", s.modality, s.get_modality_display())
    areas = list(s.areas.all()) if areas is None else areas
    notes = [n for n in (s.notes, s.immediate_reactions) if n]
    notes += [a.text for a in (s.addenda.all() if addenda is None else addenda)]
    whole = {
        "id": c.fhir_id(s.pk),
        "status": status,
        "code": code,
        "subject": ref("Patient", s.patient_id),
        "occurrenceDateTime": s.performed_at.isoformat(),
        "performer": [{"actor": ref("Practitioner", s.practitioner_id)}],
        "bodySite": [c.body_site(a.area) for a in areas] or None,
        "used": [{"concept": c.concept("device", s.device)}] if s.device else None,
        "basedOn": [ref("CarePlan", s.plan_id)] if s.plan_id else None,
        "note": [{"text": n} for n in notes] or None,
    }
    out: list[Said] = [(Procedure, whole)]
    for a in areas:
        extensions = [_depth(a.depth_mm)] if a.depth_mm is not None else []
        if a.tip:
            extensions.append({"url": c.extension("tip"), "valueCode": a.tip})
        extensions.append({"url": c.extension("passes"), "valueInteger": a.passes})
        part = {
            "id": c.fhir_id(s.pk, a.area),
            "status": status,
            "code": code,
            "subject": ref("Patient", s.patient_id),
            "occurrenceDateTime": s.performed_at.isoformat(),
            "partOf": [ref("Procedure", s.pk)],
            "bodySite": [c.body_site(a.area)],
            "used": [{"concept": c.concept("device", s.device)}] if s.device else None,
            "extension": extensions,
        }
        out.append((Procedure, part))
    return out


@_validated
def grade(g: m.FollowUpGrade, ref: Refs) -> Said:
    data = {
        "id": c.fhir_id("grade", g.pk),
        "status": "final",
        "category": [{"coding": [{"system": c.OBSERVATION_CATEGORY, "code": "exam"}]}],
        "code": c.concept("concern", g.concern),
        "subject": ref("Patient", g.patient_id),
        "effectiveDateTime": g.graded_on.isoformat(),
        "valueQuantity": {"value": g.grade},
        "bodySite": c.body_site(g.area),
        "basedOn": [ref("CarePlan", g.plan_id)] if g.plan_id else None,
        "note": [{"text": g.notes}] if g.notes else None,
    }
    if g.baseline is not None:
        baseline = c.concept("grade-component", "baseline", "Grade before treatment")
        data["component"] = [{"code": baseline, "valueQuantity": {"value": g.baseline}}]
    return Observation, data


@_validated
def findings(consultation: m.Consultation, ref: Refs) -> list[Said]:
    """The screening findings stored with a consultation, one Observation each."""
    out: list[Said] = []
    for k, f in enumerate((consultation.screening or {}).get("findings", [])):
        value = f"{f.get('severity', '')} for {f.get('modality', '')}: {f.get('action', '')}"
        data = {
            "id": c.fhir_id("finding", consultation.pk, k),
            "status": "final",
            "category": [{"coding": [{"system": c.OBSERVATION_CATEGORY, "code": "survey"}]}],
            "code": c.concept("contraindication", f.get("rule", "unknown"), f.get("name")),
            "subject": ref("Patient", consultation.patient_id),
            "effectiveDateTime": consultation.as_of.isoformat(),
            "valueString": value,
            "note": [{"text": f["reason"]}] if f.get("reason") else None,
        }
        out.append((Observation, data))
    return out


@_validated
def consent(r: m.ConsentRecord, ref: Refs) -> Said:
    text = base64.b64encode(r.text.encode()).decode()
    attachments = [
        {
            "contentType": "text/plain; charset=utf-8",
            "data": text,
            "title": f"Consent text {r.text_version}",
        }
    ]
    if r.signature_png:
        png = base64.b64encode(bytes(r.signature_png)).decode()
        attachments.append({"contentType": "image/png", "data": png, "title": "Signature"})
    return Consent, (
        {
            "id": c.fhir_id(r.pk),
            "status": "active",
            "category": [{"text": "Treatment consent"}],
            "subject": ref("Patient", r.patient_id),
            "date": timezone.localtime(r.signed_at).date().isoformat(),
            "grantor": [ref("Patient", r.patient_id)],
            "decision": "permit",
            "sourceAttachment": attachments,
        }
    )


@_validated
def photo(p: m.Photo, ref: Refs) -> Said:
    attachment = {
        "contentType": p.content_type,
        "size": p.size_bytes,
        "width": p.width,
        "height": p.height,
        "title": f"{p.get_stage_display()} photo, {p.area}, {p.taken_on.isoformat()}",
        "creation": p.taken_on.isoformat(),
    }
    return DocumentReference, (
        {
            "id": c.fhir_id(p.pk),
            "status": "current",
            "type": {"text": "Clinical photograph"},
            "subject": ref("Patient", p.patient_id),
            "date": p.uploaded_at.isoformat(),
            "bodySite": [{"concept": c.body_site(p.area)}],
            "context": [ref("Procedure", p.session_id)] if p.session_id else None,
            "content": [{"attachment": attachment}],
        }
    )


@_validated
def communication(r: m.Reminder, ref: Refs) -> Said:
    return Communication, (
        {
            "id": c.fhir_id(r.pk),
            "status": "completed",
            "category": [c.concept("reminder-kind", r.kind, r.get_kind_display())],
            "medium": [{"coding": [{"system": c.PARTICIPATION_MODE, "code": MEDIUM[r.channel]}]}],
            "subject": ref("Patient", r.patient_id),
            "about": [ref("Appointment", r.appointment_id)] if r.appointment_id else None,
            "sent": r.sent_at.isoformat() if r.sent_at else None,
        }
    )


def patient_bundle(p: m.Patient, ref: Refs | None = None) -> Bundle:
    """Everything Dermis holds about `p`, as one FHIR Bundle of type collection (`ref`: how
    resources refer to each other; urn:uuid full URLs unless given)."""
    ref = ref or Refs(p.clinic)
    return bundle_from(bundle_said(p, ref), ref, p, timezone.now().isoformat())


def bundle_said(p: m.Patient, ref: Refs) -> list[Said]:
    """What each resource of `p`'s bundle holds, in the bundle's order."""
    # Every read of the patient's rows goes to the database in one round trip.
    with read_together(*reads.of(p)):
        return gathered(p, ref)


def gathered(p: m.Patient, ref: Refs) -> list[Said]:
    """`bundle_said` without sending its reads ahead (a caller that sent them: `fhir.kept`). Every
    row it reads is one of `reads.of(p)`'s, and nothing else it says varies but the patient's
    and the clinic's rows, the references' kind and slug, and the current time zone (a
    signature's date)."""
    known = {"patient": p}
    sessions = reads.OF_PATIENT["sessions"].rows(None, patient=p.pk, known=known)
    areas, addenda = reads.by_session("areas", p), reads.by_session("addenda", p)
    appointments = reads.OF_PATIENT["appointments"].rows(None, patient=p.pk, known=known)
    consultations = reads.OF_PATIENT["consultations"].rows(None, patient=p.pk, known=known)
    imported: dict[tuple[str, int], list] = {}
    for row in reads.IMPORTED.rows(None, patient=p.pk, clinic=p.clinic_id):
        imported.setdefault((row.kind, row.object_id), []).append(row)
    out: list[Said] = [
        patient.said(p, ref, imported.get(("patient", p.pk), ())),
        organization.said(p.clinic),
    ]
    for s in reads.STAFF.rows(None, patient=p.pk):
        out += [practitioner.said(s), practitioner_role.said(s, ref)]
    out += [appointment.said(a, ref, imported.get(("appointment", a.pk), ())) for a in appointments]
    for plan in reads.OF_PATIENT["plans"].rows(None, patient=p.pk, known=known):
        out.append(care_plan.said(plan, sessions, ref))
        out += [service_request.said(plan, *t, ref) for t in _treatments(plan)]
    for s in sessions:
        out += procedures.said(s, ref, areas.get(s.pk, []), addenda.get(s.pk, []))
    grades = reads.OF_PATIENT["grades"].rows(None, patient=p.pk, known=known)
    out += [grade.said(g, ref) for g in grades]
    for consultation in consultations:
        out += findings.said(consultation, ref)
    consents = reads.OF_PATIENT["consents"].rows(None, patient=p.pk, known=known)
    out += [consent.said(r, ref) for r in consents]
    photos = reads.OF_PATIENT["photos"].rows(None, patient=p.pk, known=known)
    out += [photo.said(ph, ref) for ph in photos]
    sent = reads.OF_PATIENT["sent reminders"].rows(None, patient=p.pk, known=known)
    out += [communication.said(r, ref) for r in sent]
    return out


def bundle_from(said: list[Said], ref: Refs, p: m.Patient, timestamp: str) -> Bundle:
    """The bundle of what `bundle_said` said, validated, made at `timestamp`."""
    entries = [
        {
            "fullUrl": c.full_url(ref.slug, kind.get_resource_type(), data["id"]),
            "resource": kind.model_validate(data),
        }
        for kind, data in said
    ]
    return Bundle.model_validate(
        {
            "type": "collection",
            "timestamp": timestamp,
            "identifier": {"system": c.identifier_system(ref.slug, "export"), "value": str(p.pk)},
            "entry": entries,
        }
    )
