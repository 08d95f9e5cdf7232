"""FHIR R5 resources as R4, for clients and validators that know R4 only (served at /fhir/R4/).

Only the elements Dermis writes are converted, each to its R4 home; an element R4 has no place
for is dropped rather than sent invalid (listed per type below).
"""

from __future__ import annotations

import copy

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"
CONSENT_POLICY = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def _concept(codeable_reference: dict | None) -> dict | None:
    """R5 CodeableReference -> R4 CodeableConcept (a reference alone has no R4 concept)."""
    return (codeable_reference or {}).get("concept")


def _appointment(r: dict) -> dict:
    # R4 Appointment.basedOn may name a ServiceRequest only: the plan becomes supporting info.
    if "basedOn" in r:
        r["supportingInformation"] = r.pop("basedOn")
    notes = r.pop("note", None)
    if notes:
        r["comment"] = "\n".join(n["text"] for n in notes)
    return r


def _care_plan(r: dict) -> dict:
    for activity in r.get("activity", []):
        planned = activity.pop("plannedActivityReference", None)
        if planned:
            activity["reference"] = planned
        performed = activity.pop("performedActivity", None)
        if performed:
            activity["outcomeReference"] = [p["reference"] for p in performed if "reference" in p]
    return r


def _service_request(r: dict) -> dict:
    if "code" in r:
        r["code"] = _concept(r["code"])
    reasons = r.pop("reason", None)
    if reasons:
        r["reasonCode"] = [x["concept"] for x in reasons if "concept" in x]
    return r


def _procedure(r: dict) -> dict:
    if "occurrenceDateTime" in r:
        r["performedDateTime"] = r.pop("occurrenceDateTime")
    used = r.pop("used", None)
    if used:
        r["usedCode"] = [x["concept"] for x in used if "concept" in x]
    return r


def _consent(r: dict) -> dict:
    """R4 Consent has a scope, one patient, a dateTime, a policy rule and one source attachment;
    the signature image (a second attachment in R5) has no R4 place and is dropped."""
    subject = r.pop("subject", None)
    out = {
        "resourceType": "Consent",
        "id": r["id"],
        "status": r["status"],
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "treatment"}]},
        "category": r.get("category")
        or [{"coding": [{"system": CONSENT_CATEGORY, "code": "59284-0"}]}],
        "patient": subject,
        "dateTime": r.get("date"),
        "performer": r.get("grantor"),
        "policyRule": {"coding": [{"system": CONSENT_POLICY, "code": "OPTIN"}]},
        "provision": {"type": r.get("decision", "permit")},
    }
    attachments = r.get("sourceAttachment") or []
    if attachments:
        out["sourceAttachment"] = attachments[0]
    return {k: v for k, v in out.items() if v is not None}


def _document_reference(r: dict) -> dict:
    """R4 has no DocumentReference.bodySite (dropped) and keeps the session under context.related;
    R4 Attachment has no width and height (dropped)."""
    r.pop("bodySite", None)
    related = r.pop("context", None)
    if related:
        r["context"] = {"related": related}
    for content in r.get("content", []):
        attachment = content.get("attachment", {})
        attachment.pop("width", None)
        attachment.pop("height", None)
    return r


CONVERT = {
    "Appointment": _appointment,
    "CarePlan": _care_plan,
    "ServiceRequest": _service_request,
    "Procedure": _procedure,
    "Consent": _consent,
    "DocumentReference": _document_reference,
}


def resource(r5: dict) -> dict:
    """One R5 resource (as JSON) in its R4 form: the same dict where R4 writes it alike (a
    Patient, a Practitioner: served as the R5 route serves it), a converted copy otherwise."""
    convert = CONVERT.get(r5.get("resourceType", ""))
    return convert(copy.deepcopy(r5)) if convert else r5
