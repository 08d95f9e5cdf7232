"""Every resource type the FHIR REST endpoint serves, by name."""

from __future__ import annotations

from dermis.web.fhir.rest import clinical, resources

KINDS = {
    kind.name: kind
    for kind in (
        resources.PATIENT,
        resources.PRACTITIONER,
        resources.PRACTITIONER_ROLE,
        resources.ORGANIZATION,
        resources.APPOINTMENT,
        resources.CARE_PLAN,
        resources.SERVICE_REQUEST,
        clinical.PROCEDURE,
        clinical.OBSERVATION,
        clinical.CONSENT,
        clinical.DOCUMENT_REFERENCE,
        clinical.COMMUNICATION,
    )
}
