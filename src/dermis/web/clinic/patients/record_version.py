"""A patient's record version: the two numbers the database keeps (migration 0033) that change
whenever anything a patient's record page or FHIR bundle shows changes, save the patient's own
row and the clinic's (which the pages key by themselves): the patient's `PatientVersion` and
their clinic's `ReferenceVersion`.

A page drawn for the pair may be kept and shown again while the pair stands, and while the time
alone changes nothing it shows. The pair is read before what the page shows, so a page is never
kept under a pair older than its rows (drawn from rows newer than the pair, it is at worst drawn
again). Nothing is kept or taken inside a transaction: there the rows may be uncommitted, and a
number rolled back is given again to the next change.
"""

from __future__ import annotations

from django.http import HttpRequest

from dermis.web.clinic.access import PATIENT_IN_CLINIC, clinic_patient
from dermis.web.clinic.models import Patient, PatientVersion, ReferenceVersion
from dermis.web.clinic.prepared import PreparedValues
from dermis.web.clinic.scheduling.versions import in_transaction
from dermis.web.clinic.together import Read, read_together

PATIENT = PreparedValues(
    PatientVersion,
    lambda patient: PatientVersion.objects.filter(patient_id=patient).values_list("n", flat=True),
    flat=True,
    patient=int,
)
REFERENCE = PreparedValues(
    ReferenceVersion,
    lambda clinic: ReferenceVersion.objects.filter(clinic_id=clinic).values_list("n", flat=True),
    flat=True,
    clinic=int,
)


def reads(patient_id: int, clinic_id: int) -> list[Read | None]:
    """The reads `of` makes, for a page to send with its own first reads (`read_together`)."""
    return [PATIENT.ahead(patient=patient_id), REFERENCE.ahead(clinic=clinic_id)]


def with_patient(patient_id: int, clinic_id: int) -> list[Read | None]:
    """The patient's row as the pages read it (`access.PATIENT_IN_CLINIC`) and the reads `of`
    makes: a page that shows a patient's record or bundle reads all three in one round trip."""
    first = PATIENT_IN_CLINIC.ahead(1, patient=patient_id, clinic=clinic_id)
    return [first, *reads(patient_id, clinic_id)]


def of(patient_id: int, clinic_id: int) -> tuple[int, int] | None:
    """The patient's record version and their clinic's reference version (0 for one never
    written); None inside a transaction, where nothing is kept or taken."""
    if in_transaction():
        return None
    patient = PATIENT.rows(patient=patient_id)
    clinic = REFERENCE.rows(clinic=clinic_id)
    return (patient[0] if patient else 0, clinic[0] if clinic else 0)


def patient_of(request: HttpRequest, patient_id: int) -> tuple[Patient, tuple[int, int] | None]:
    """The requesting staff member's clinic's patient (`access.clinic_patient`: else 404) and
    their record version (`of`), read in one round trip."""
    clinic_id = request.staff.clinic.pk
    with read_together(*with_patient(patient_id, clinic_id)):
        patient = clinic_patient(request, patient_id)
        return patient, of(patient.pk, clinic_id)
