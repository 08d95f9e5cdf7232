"""The resource types of the FHIR REST endpoint: how each is read by id, searched and built.

Resources are built by the export's mappers (dermis.web.fhir.export) with relative references
(`Patient/12`), so a client can follow each one with a read. Every query is limited to the
requesting staff member's clinic; another clinic's record is "not found", like a missing one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from dermis.web.clinic import models as m
from dermis.web.clinic.access import PATIENT_IN_CLINIC
from dermis.web.clinic.actors import ANY_STAFF, CLINICAL
from dermis.web.clinic.patients import normalise
from dermis.web.clinic.patients import selectors as patient_selectors
from dermis.web.clinic.prepared import Paged, PreparedRows
from dermis.web.fhir import codes as c
from dermis.web.fhir import export, kept
from dermis.web.fhir.rest import params as p


class RestRefs(export.Refs):
    """References as the REST endpoint serves them: `Type/id`, readable one by one."""

    def __call__(self, resource_type: str, *parts: object) -> dict:
        return {"reference": f"{resource_type}/{c.fhir_id(*parts)}"}


def as_json(said: export.Said) -> dict:
    """The resource `said` says (a builder's `.said`), validated, as JSON."""
    return json.loads(kept.written(said))


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # FHIR search parameter type: token, string, date, reference
    doc: str


@dataclass(frozen=True)
class Kind:
    """One resource type: `read` finds a row by FHIR id, `search` finds rows for the query,
    `build` makes the resource of a row. A row is (record, patient or None)."""

    name: str
    roles: Sequence[str]
    read: Callable[[m.StaffMember, str], object | None]
    search: Callable[[m.StaffMember, dict[str, list[str]]], Sequence | QuerySet]
    build: Callable[[object, RestRefs], dict]
    patient_of: Callable[[object], m.Patient | None]
    params: tuple[SearchParam, ...] = field(default_factory=tuple)
    # How many rows `search` found, where there is a cheaper way than counting them.
    total: Callable[[m.StaffMember, dict[str, list[str]], QuerySet], int] | None = None


def pk_of(value: str) -> int | None:
    """A FHIR id as a row's id (None where it cannot be one)."""
    return int(value) if value.isdigit() and len(value) < 19 else None


def _patient_q(staff, query, prefix: str = "patient") -> Q:
    q = Q(**{f"{prefix}__clinic": staff.clinic})
    for value in query.get("patient", []):
        q &= Q(**{f"{prefix}_id": p.reference("patient", value, "Patient")})
    return q


def _ids(query, name: str = "_id") -> list[str]:
    return [v for value in query.get(name, []) for v in value.split(",")]


def _id_q(query) -> Q:
    ids = _ids(query)
    if not ids:
        return Q()
    return Q(pk__in=[i for i in (pk_of(v) for v in ids) if i is not None])


# --- Patient ---------------------------------------------------------------------------------


def _patient_search(staff, query):
    words = [word for value in query.get("name", []) for word in normalise.fold(value).split()]
    if words and not set(query) - PAGING - {"name"} and len(words) <= NAMES_COMPOSED_AT_MOST:
        # Names alone, the search most asked: composed once for its number of words.
        values = {f"w{i}": word for i, word in enumerate(words)}
        values |= {f"s{i}": f" {word}" for i, word in enumerate(words)}

        def count() -> int:
            # Composed only when a full page cannot tell how many matched.
            return _named(staff.clinic_id, words, [f" {word}" for word in words]).count()

        return Paged(_names_composed(len(words)), count, clinic=staff.clinic_id, **values)
    q = _id_q(query)
    system = c.identifier_system(staff.clinic.slug, "patient")
    for value in query.get("identifier", []):
        q &= Q(pk=pk_of(p.token("identifier", value, system)) or 0)
    if "birthdate" in query:
        q &= p.date_filter("birthdate", query["birthdate"], "date_of_birth", is_datetime=False)
    return _named(staff.clinic_id, words, [f" {word}" for word in words]).filter(q)


def _named(clinic: int, words: list[str], spaced: list[str]) -> QuerySet:
    """The clinic's patients with each of `words` at the start of a part of their name (`spaced`:
    each word after a space), by family name. FHIR string search: case- and accent-insensitive,
    matching the start of a name part. The folded `search_name` ("given family") and its trigram
    index serve it: the word anywhere first (one scan of the index), then at the start of a part
    (two scans, one for each way a part starts, took twice as long)."""
    q = Q(clinic_id=clinic)
    for word, after_a_space in zip(words, spaced, strict=True):
        start = Q(search_name__startswith=word) | Q(search_name__contains=after_a_space)
        q &= Q(search_name__contains=word) & start
    return m.Patient.objects.filter(q).select_related("clinic").order_by("family_name", "pk")


# A search by names alone, composed once per number of words and planned by the database for each
# search's words (`planned_each_time`: a rare name's trigrams).
NAMES_COMPOSED_AT_MOST = 4
_NAMES: dict[int, PreparedRows] = {}


def _names_composed(n: int) -> PreparedRows:
    rows = _NAMES.get(n)
    if rows is None:

        def build(clinic: int, **values) -> QuerySet:
            words = [values[f"w{i}"] for i in range(n)]
            return _named(clinic, words, [values[f"s{i}"] for i in range(n)])

        kinds = {f"{k}{i}": str for i in range(n) for k in ("w", "s")}
        rows = _NAMES[n] = PreparedRows(
            m.Patient, build, planned_each_time=True, clinic=int, **kinds
        )
    return rows


def _patient_read(staff, i: str):
    """The clinic's patient with this id, read as the pages read it (composed once)."""
    pk = pk_of(i)
    found = [] if pk is None else PATIENT_IN_CLINIC.rows(1, patient=pk, clinic=staff.clinic_id)
    if not found:
        return None
    found[0].clinic = staff.clinic  # the same row, read with the staff member
    return found[0]


PAGING = {"_count", "_offset", "_format"}  # what asks for no narrower search


def _patient_total(staff, query, rows: QuerySet) -> int:
    """Every patient of the clinic (no search parameter): its tally, one row read where counting
    them grew with the clinic; a search counts what it found."""
    if set(query) - PAGING:
        return rows.count()
    return patient_selectors.tally(staff.clinic)


PATIENT = Kind(
    name="Patient",
    roles=ANY_STAFF,
    read=lambda staff, i: _patient_read(staff, i),
    search=_patient_search,
    build=lambda obj, ref: as_json(export.patient.said(obj, ref)),
    patient_of=lambda obj: obj,
    total=_patient_total,
    params=(
        SearchParam("identifier", "token", "the clinic's patient number (system|value or value)"),
        SearchParam("name", "string", "the start of the given or family name"),
        SearchParam("birthdate", "date", "date of birth (eq, lt, le, gt, ge)"),
    ),
)


# --- Practitioner, PractitionerRole and Organization -----------------------------------------


def _staff_qs(staff, query) -> QuerySet:
    q = Q(clinic=staff.clinic) & _id_q(query)
    for value in query.get("name", []):
        q &= Q(display_name__icontains=value.strip())
    return m.StaffMember.objects.filter(q).select_related("user", "clinic").order_by("pk")


def _staff_read(staff, i):
    qs = m.StaffMember.objects.select_related("user", "clinic")
    return qs.filter(pk=pk_of(i), clinic=staff.clinic).first()


PRACTITIONER = Kind(
    name="Practitioner",
    roles=ANY_STAFF,
    read=_staff_read,
    search=_staff_qs,
    build=lambda obj, ref: as_json(export.practitioner.said(obj)),
    patient_of=lambda obj: None,
    params=(SearchParam("name", "string", "part of the name shown to patients"),),
)


def _role_search(staff, query):
    extra = query.get("practitioner", [])
    qs = _staff_qs(staff, {k: v for k, v in query.items() if k != "practitioner"})
    for value in extra:
        qs = qs.filter(pk=p.reference("practitioner", value, "Practitioner"))
    return qs


PRACTITIONER_ROLE = Kind(
    name="PractitionerRole",
    roles=ANY_STAFF,
    read=_staff_read,
    search=_role_search,
    build=lambda obj, ref: as_json(export.practitioner_role.said(obj, ref)),
    patient_of=lambda obj: None,
    params=(SearchParam("practitioner", "reference", "the Practitioner"),),
)


def _organization_search(staff, query):
    ids = _ids(query)
    return [staff.clinic] if not ids or str(staff.clinic_id) in ids else []


ORGANIZATION = Kind(
    name="Organization",
    roles=ANY_STAFF,
    read=lambda staff, i: staff.clinic if pk_of(i) == staff.clinic_id else None,
    search=_organization_search,
    build=lambda obj, ref: as_json(export.organization.said(obj)),
    patient_of=lambda obj: None,
)


# --- Appointment -----------------------------------------------------------------------------

STATUS_FROM_FHIR: dict[str, list[str]] = {}
for _ours, _theirs in export.APPOINTMENT_STATUS.items():
    STATUS_FROM_FHIR.setdefault(_theirs, []).append(_ours)


def _appointment_search(staff, query):
    q = _patient_q(staff, query) & _id_q(query)
    if "date" in query:
        q &= p.date_filter("date", query["date"], "start", is_datetime=True)
    for value in query.get("status", []):
        wanted = [s for code in value.split(",") for s in STATUS_FROM_FHIR.get(code, [])]
        q &= Q(status__in=wanted)
    qs = m.Appointment.objects.filter(q).select_related("clinic", "patient")
    return qs.order_by("start", "pk")


APPOINTMENT = Kind(
    name="Appointment",
    roles=ANY_STAFF,
    read=lambda staff, i: m.Appointment.objects.filter(pk=pk_of(i), clinic=staff.clinic).first(),
    search=_appointment_search,
    build=lambda obj, ref: as_json(export.appointment.said(obj, ref)),
    patient_of=lambda obj: obj.patient,
    params=(
        SearchParam("patient", "reference", "the Patient"),
        SearchParam("date", "date", "the start (eq, lt, le, gt, ge)"),
        SearchParam("status", "token", "booked, fulfilled, cancelled, noshow (comma: any of)"),
    ),
)


# --- CarePlan and ServiceRequest -------------------------------------------------------------


def _plan_search(staff, query):
    q = _patient_q(staff, query) & _id_q(query)
    qs = m.TreatmentPlan.objects.filter(q).select_related("patient")
    return qs.prefetch_related("sessions").order_by("pk")


def _care_plan(plan, ref):
    sessions = sorted(plan.sessions.all(), key=lambda s: (s.performed_at, s.pk))
    return as_json(export.care_plan.said(plan, sessions, ref))


CARE_PLAN = Kind(
    name="CarePlan",
    roles=CLINICAL,
    read=lambda staff, i: m.TreatmentPlan.objects.filter(
        pk=pk_of(i), patient__clinic=staff.clinic
    ).first(),
    search=_plan_search,
    build=_care_plan,
    patient_of=lambda obj: obj.patient,
    params=(SearchParam("patient", "reference", "the Patient"),),
)


def _requests(plans) -> list[tuple]:
    return [(plan, *t) for plan in plans for t in export._treatments(plan)]


def _request_read(staff, i):
    parts = i.split("-")
    if len(parts) != 4 or parts[0] != "plan" or not all(x.isdigit() for x in parts[1:]):
        return None
    plan = m.TreatmentPlan.objects.filter(pk=pk_of(parts[1]), patient__clinic=staff.clinic).first()
    wanted = (int(parts[2]), int(parts[3]))
    found = [r for r in _requests([plan] if plan else []) if (r[1], r[2]) == wanted]
    return found[0] if found else None


def _request_search(staff, query):
    rows = _requests(_plan_search(staff, {"patient": query.get("patient", [])}))
    ids = _ids(query)
    return [r for r in rows if c.fhir_id("plan", r[0].pk, r[1], r[2]) in ids] if ids else rows


SERVICE_REQUEST = Kind(
    name="ServiceRequest",
    roles=CLINICAL,
    read=_request_read,
    search=_request_search,
    build=lambda row, ref: as_json(export.service_request.said(*row, ref)),
    patient_of=lambda row: row[0].patient,
    params=(SearchParam("patient", "reference", "the Patient"),),
)
