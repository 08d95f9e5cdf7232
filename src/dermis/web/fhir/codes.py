"""Code systems and identifier systems of the FHIR mapping, in one place.

Dermis's own concepts (areas, concerns, modalities, devices, roles) use local code systems under
`base()`; a body site also carries its SNOMED CT code where the concept is unambiguous.
"""

from __future__ import annotations

import uuid

from django.conf import settings

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"

# SNOMED CT body structures, only where the Dermis area means exactly that structure. Areas such
# as "periorbital", "perioral", "jawline", "decolletage" and "back" have no single equivalent.
SNOMED_AREAS = {
    "forehead": ("52795006", "Forehead structure"),
    "nose": ("45206002", "Nasal structure"),
    "cheeks": ("60819002", "Cheek structure"),
    "neck": ("45048000", "Neck structure"),
    "abdomen": ("113345001", "Abdominal structure"),
    "thighs": ("68367000", "Thigh structure"),
    "buttocks": ("46862004", "Buttock structure"),
    "upper_arms": ("40983000", "Upper arm structure"),
}

_NAMESPACE = uuid.UUID("5f0a3c8e-2b7d-4c1e-9a46-d3e1f0b2c7a9")


def base() -> str:
    """Where this installation's code systems live; set DERMIS_FHIR_BASE in settings to own it."""
    return getattr(settings, "DERMIS_FHIR_BASE", "https://dermis.invalid/fhir").rstrip("/")


def system(name: str) -> str:
    """A local code system, e.g. system("area")."""
    return f"{base()}/CodeSystem/{name}"


def extension(name: str) -> str:
    return f"{base()}/StructureDefinition/{name}"


def identifier_system(clinic_slug: str, kind: str) -> str:
    """The identifier system of one clinic's records of one kind (patient, appointment, ...)."""
    return f"{base()}/clinic/{clinic_slug}/{kind}"


def full_url(clinic_slug: str, resource_type: str, resource_id: str) -> str:
    """A stable urn:uuid for a resource: the same record gets the same URL in every export."""
    return "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, f"{clinic_slug}/{resource_type}/{resource_id}"))


def coding(name: str, code: str, display: str | None = None) -> dict:
    data = {"system": system(name), "code": code}
    if display:
        data["display"] = display
    return data


def concept(name: str, code: str, display: str | None = None) -> dict:
    return {"coding": [coding(name, code, display)], "text": display or code}


def body_site(area: str, display: str | None = None) -> dict:
    """The area as a CodeableConcept: the Dermis code, plus SNOMED CT where it is exact."""
    codings = [coding("area", area, display)]
    if area in SNOMED_AREAS:
        code, name = SNOMED_AREAS[area]
        codings.append({"system": SNOMED, "code": code, "display": name})
    return {"coding": codings, "text": display or area}


def fhir_id(*parts: object) -> str:
    """A valid FHIR id ([A-Za-z0-9-.]{1,64}) from parts such as ("session", 12, "upper_arms")."""
    return "-".join(str(p) for p in parts).replace("_", "-")[:64]
