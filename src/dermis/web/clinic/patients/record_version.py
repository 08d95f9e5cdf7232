"""A patient's record version: the two numbers the database keeps (migration 0033) that change
whenever anything changes that a patient's record page, FHIR bundle, forecast chart or series
proposal is drawn from, save the patient's own row and the clinic's (which the pages key by
themselves): the patient's `PatientVersion` and their clinic's `ReferenceVersion`.

A page drawn for the pair may be kept and shown again while the pair stands, and while the time
alone changes nothing it shows. The pair is read before what the page shows, so a page is never
kept under a pair older than its rows (drawn from rows newer than the pair, it is at worst drawn
again). Nothing is kept or taken inside a transaction: there the rows may be uncommitted, and a
number rolled back is given again to the next change.
"""

from __future__ import annotations

from django.db.models import Subquery
from django.http import HttpRequest

from dermis.web.clinic.access import PATIENT_IN_CLINIC, clinic_object, clinic_patient, of_clinic
from dermis.web.clinic.models import Patient, PatientVersion, ReferenceVersion, TreatmentPlan
from dermis.web.clinic.prepared import PreparedValues
from dermis.web.clinic.scheduling import versions
from dermis.web.clinic.scheduling.versions import in_transaction
from dermis.web.clinic.together import Read, read_together

PATIENT = PreparedValues(
    PatientVersion,
    lambda patient: PatientVersion.objects.filter(patient_id=patient).values_list("n", flat=True),
    flat=True,
    patient=int,
)
# By a plan's id, for a page that reads the plan and the numbers together (the plan's patient is
# not known before the plan is read).
OF_PLAN = PreparedValues(
    PatientVersion,
    lambda plan: PatientVersion.objects.filter(
        patient_id=Subquery(TreatmentPlan.objects.filter(pk=plan).values("patient_id")[:1])
    ).values_list("n", flat=True),
    flat=True,
    plan=int,
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


def plan_of(
    request: HttpRequest, plan_id: int
) -> tuple[TreatmentPlan, tuple[int, int, int] | None]:
    """The plan of a patient of the requesting staff member's clinic (`access.clinic_object`:
    else 404), with its patient's record version and their clinic's reference version (as `of`
    gives them) and the clinic's schedule version (`scheduling.versions`), read in one round
    trip: what a page of the plan's appointments is drawn from."""
    clinic_id = request.staff.clinic.pk
    plan_read = of_clinic(TreatmentPlan).ahead(1, pk=plan_id, clinic=clinic_id)
    numbers = [OF_PLAN.ahead(plan=plan_id), REFERENCE.ahead(clinic=clinic_id)]
    with read_together(plan_read, *numbers, versions.VERSION.ahead(clinic=clinic_id)):
        plan = clinic_object(request, TreatmentPlan, plan_id)
        if in_transaction():
            return plan, None
        found = OF_PLAN.rows(plan=plan_id)
        clinic = REFERENCE.rows(clinic=clinic_id)
        mine = (found[0] if found else 0, clinic[0] if clinic else 0)
        return plan, (*mine, versions.schedule_version(clinic_id))
