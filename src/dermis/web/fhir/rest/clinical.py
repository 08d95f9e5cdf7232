"""The clinical resource types of the FHIR REST endpoint (practitioners and admins only):
Procedure, Observation, Consent, DocumentReference and Communication."""

from __future__ import annotations

from django.db.models import Q

from dermis.web.clinic import models as m
from dermis.web.clinic.actors import CLINICAL
from dermis.web.fhir import codes as c
from dermis.web.fhir import export
from dermis.web.fhir.rest import params as p
from dermis.web.fhir.rest.resources import (
    Kind,
    SearchParam,
    _id_q,
    _ids,
    _patient_q,
    as_json,
    pk_of,
)

# --- Procedure: a session ("12") and each treated area of it ("12-cheeks") -------------------


def _sessions(staff, q: Q):
    qs = m.TreatmentSession.objects.filter(Q(patient__clinic=staff.clinic) & q)
    qs = qs.select_related("patient").prefetch_related("areas", "addenda")
    return qs.order_by("performed_at", "pk")


def _procedure_rows(sessions) -> list[tuple]:
    return [(s, None) for s in sessions] + [(s, a) for s in sessions for a in s.areas.all()]


def _procedure_read(staff, i):
    head = i.partition("-")[0]
    session = _sessions(staff, Q(pk=pk_of(head) or 0)).first()
    if session is None:
        return None
    rows = _procedure_rows([session])
    found = [r for r in rows if c.fhir_id(session.pk, *([r[1].area] if r[1] else [])) == i]
    return found[0] if found else None


def _procedure_search(staff, query):
    q = _patient_q(staff, query)
    if "date" in query:
        q &= p.date_filter("date", query["date"], "performed_at", is_datetime=True)
    rows = sorted(
        _procedure_rows(list(_sessions(staff, q))),
        key=lambda r: (r[0].performed_at, r[0].pk, r[1].area if r[1] else ""),
    )
    ids = _ids(query)
    if ids:
        rows = [r for r in rows if _procedure_id(r) in ids]
    return rows


def _procedure_id(row) -> str:
    session, area = row
    return c.fhir_id(session.pk, area.area) if area else c.fhir_id(session.pk)


def _procedure(row, ref) -> dict:
    resources = export.procedures.said(row[0], ref)
    wanted = _procedure_id(row)
    return next(as_json(r) for r in resources if r[1]["id"] == wanted)


PROCEDURE = Kind(
    name="Procedure",
    roles=CLINICAL,
    read=_procedure_read,
    search=_procedure_search,
    build=_procedure,
    patient_of=lambda row: row[0].patient,
    params=(
        SearchParam("patient", "reference", "the Patient"),
        SearchParam("date", "date", "when it was performed (eq, lt, le, gt, ge)"),
    ),
)


# --- Observation: follow-up grades ("grade-7") and screening findings ("finding-3-0") --------


def _grade_rows(staff, q: Q) -> list[tuple]:
    qs = m.FollowUpGrade.objects.filter(Q(patient__clinic=staff.clinic) & q)
    return [("grade", g) for g in qs.select_related("patient").order_by("graded_on", "pk")]


def _finding_rows(staff, q: Q) -> list[tuple]:
    qs = m.Consultation.objects.filter(Q(patient__clinic=staff.clinic) & q)
    out = []
    for consultation in qs.select_related("patient").order_by("as_of", "pk"):
        findings = (consultation.screening or {}).get("findings", [])
        out += [("finding", consultation, k) for k in range(len(findings))]
    return out


def _observation_id(row) -> str:
    if row[0] == "grade":
        return c.fhir_id("grade", row[1].pk)
    return c.fhir_id("finding", row[1].pk, row[2])


def _observation_code(row) -> str:
    if row[0] == "grade":
        return row[1].concern
    return (row[1].screening or {}).get("findings", [])[row[2]].get("rule", "unknown")


def _observation_read(staff, i):
    kind, _, rest = i.partition("-")
    if kind == "grade":
        rows = _grade_rows(staff, Q(pk=pk_of(rest) or 0))
    elif kind == "finding":
        rows = _finding_rows(staff, Q(pk=pk_of(rest.partition("-")[0]) or 0))
    else:
        return None
    return next((r for r in rows if _observation_id(r) == i), None)


def _observation_search(staff, query):
    q = _patient_q(staff, query)
    rows = _grade_rows(staff, q) + _finding_rows(staff, q)
    for value in query.get("code", []):
        codes = {p.token("code", v) for v in value.split(",")}
        rows = [r for r in rows if _observation_code(r) in codes]
    if "date" in query:
        rows = [r for r in rows if p.date_matches("date", query["date"], _observation_day(r))]
    ids = _ids(query)
    if ids:
        rows = [r for r in rows if _observation_id(r) in ids]
    return rows


def _observation_day(row):
    return row[1].graded_on if row[0] == "grade" else row[1].as_of


def _observation(row, ref) -> dict:
    if row[0] == "grade":
        return as_json(export.grade.said(row[1], ref))
    return as_json(export.findings.said(row[1], ref)[row[2]])


OBSERVATION = Kind(
    name="Observation",
    roles=CLINICAL,
    read=_observation_read,
    search=_observation_search,
    build=_observation,
    patient_of=lambda row: row[1].patient,
    params=(
        SearchParam("patient", "reference", "the Patient"),
        SearchParam("code", "token", "the concern graded, or the screening rule found"),
        SearchParam("date", "date", "the day graded or screened (eq, lt, le, gt, ge)"),
    ),
)


# --- Consent, DocumentReference (photo metadata), Communication (reminders sent) -------------


def _simple(name: str, model, build, *, extra: Q | None = None, doc: str = "") -> Kind:
    def qs(staff, q: Q):
        base = Q(patient__clinic=staff.clinic) & (extra or Q())
        return model.objects.filter(base & q).select_related("patient").order_by("pk")

    return Kind(
        name=name,
        roles=CLINICAL,
        read=lambda staff, i: qs(staff, Q(pk=pk_of(i) or 0)).first(),
        search=lambda staff, query: qs(staff, _patient_q(staff, query) & _id_q(query)),
        build=build,
        patient_of=lambda obj: obj.patient,
        params=(SearchParam("patient", "reference", "the Patient"),),
    )


CONSENT = _simple(
    "Consent", m.ConsentRecord, lambda obj, ref: as_json(export.consent.said(obj, ref))
)
DOCUMENT_REFERENCE = _simple(
    "DocumentReference", m.Photo, lambda obj, ref: as_json(export.photo.said(obj, ref))
)
COMMUNICATION = _simple(
    "Communication",
    m.Reminder,
    lambda obj, ref: as_json(export.communication.said(obj, ref)),
    extra=Q(status=m.Reminder.Status.SENT),
)
