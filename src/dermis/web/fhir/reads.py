"""What a FHIR export reads of a patient (`export.patient_bundle`): composed once per process
(clinic/prepared.py), and sent to the database together in one round trip (`of`)."""

from __future__ import annotations

from django.db.models import Q

from dermis.web.api.models import ExternalId
from dermis.web.clinic import models as m
from dermis.web.clinic.prepared import PreparedRows
from dermis.web.clinic.together import Read


def _of_patient(model, *order, **where) -> PreparedRows:
    """A patient's rows of `model` in `order`, as the patient's related manager reads them."""
    return PreparedRows(
        model,
        lambda patient: model._default_manager.filter(patient_id=patient, **where).order_by(*order),
        patient=int,
    )


# What an export reads of a patient, composed once per process (prepared.py): composing the
# ten queries anew took about a fifth of an export.
OF_PATIENT = {
    "sessions": _of_patient(m.TreatmentSession, "performed_at", "pk"),
    "appointments": PreparedRows(
        m.Appointment,
        lambda patient: (
            m.Appointment.objects.filter(patient_id=patient)
            .select_related("clinic")
            .order_by("start", "pk")
        ),
        patient=int,
    ),
    "consultations": _of_patient(m.Consultation, "created_at", "pk"),
    "plans": _of_patient(m.TreatmentPlan, "version"),
    "grades": _of_patient(m.FollowUpGrade, "graded_on", "pk"),
    "consents": _of_patient(m.ConsentRecord, "signed_at", "pk"),
    "photos": _of_patient(m.Photo, "taken_on", "pk"),
    "sent reminders": _of_patient(m.Reminder, "sent_at", "pk", status=m.Reminder.Status.SENT),
    # Every session's, in the order each session's related manager gives them.
    "areas": PreparedRows(
        m.SessionArea,
        lambda patient: m.SessionArea.objects.filter(session__patient_id=patient).order_by(
            "session", "area"
        ),
        patient=int,
    ),
    "addenda": PreparedRows(
        m.SessionAddendum,
        lambda patient: m.SessionAddendum.objects.filter(session__patient_id=patient).order_by(
            "created_at", "pk"
        ),
        patient=int,
    ),
}


def _practitioners(patient: int):
    """Who saw the patient: the practitioners of their appointments, sessions and consultations."""
    of = {"patient_id": patient}
    return Q(
        Q(pk__in=m.Appointment.objects.filter(**of).values("practitioner_id"))
        | Q(pk__in=m.TreatmentSession.objects.filter(**of).values("practitioner_id"))
        | Q(pk__in=m.Consultation.objects.filter(**of).values("practitioner_id"))
    )


# Read with the rows above (one round trip for all): who saw the patient, and the identifiers
# imported for the patient and their appointments (`ExternalId.of_patient`).
STAFF = PreparedRows(
    m.StaffMember,
    lambda patient: (
        m.StaffMember.objects.filter(_practitioners(patient))
        .select_related("user", "clinic")
        .order_by("pk")
    ),
    patient=int,
)
IMPORTED = PreparedRows(
    ExternalId,
    lambda patient, clinic: ExternalId.objects.filter(clinic_id=clinic).filter(
        Q(kind=ExternalId.Kind.PATIENT, object_id=patient)
        | Q(
            kind=ExternalId.Kind.APPOINTMENT,
            object_id__in=m.Appointment.objects.filter(patient_id=patient).values("pk"),
        )
    ),
    patient=int,
    clinic=int,
)


def by_session(name: str, p: m.Patient) -> dict[int, list]:
    """The patient's session areas or addenda, by session id."""
    out: dict[int, list] = {}
    for row in OF_PATIENT[name].rows(None, patient=p.pk):
        out.setdefault(row.session_id, []).append(row)
    return out


def of(p: m.Patient) -> list[Read | None]:
    """Every read above of `p`, for `read_together`."""
    found = [rows.ahead(None, patient=p.pk) for rows in (*OF_PATIENT.values(), STAFF)]
    return [*found, IMPORTED.ahead(None, patient=p.pk, clinic=p.clinic_id)]
