"""Who is acting: the user, their clinic and role, and which door they came through.

Services take an `Actor`, never a request, so the web, the API, the CLI, an import and the demo
seeder are held to the same permissions and leave the same audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dermis.web.clinic.errors import forbidden, not_found
from dermis.web.clinic.models import Clinic, Patient, Role, StaffMember

CLINICAL = (Role.ADMIN, Role.PRACTITIONER)
ANY_STAFF = (Role.ADMIN, Role.PRACTITIONER, Role.FRONT_DESK)
ADMIN_ONLY = (Role.ADMIN,)
# Not staff roles: a signed-in patient acting on their own record, and a member of the public
# (booking a first consultation from the directory). No staff permission includes them.
PATIENT = "patient"
PUBLIC = "public"
# The installation's operator (the command line, a bootstrap), acting for no clinic: may create
# clinics and issue any user's API token (`tenancy/services.py`), nothing else.
OPERATOR = "operator"


@dataclass(frozen=True)
class Actor:
    clinic: Clinic
    role: str
    staff: StaffMember | None = None
    user: object | None = None  # the Django user, None for the system
    channel: str = "web"  # web, api, cli, import, demo, system
    path: str = ""
    ip_address: str | None = None
    portal_patient: Patient | None = None  # the signed-in patient (role PATIENT)

    @classmethod
    def of_staff(cls, staff: StaffMember, channel: str = "web", **where) -> Actor:
        return cls(
            clinic=staff.clinic,
            role=staff.role,
            staff=staff,
            user=staff.user,
            channel=channel,
            **where,
        )

    @classmethod
    def system(cls, clinic: Clinic, channel: str = "system") -> Actor:
        """The clinic's own processes (reminder worker, import, demo): an admin without a user."""
        return cls(clinic=clinic, role=Role.ADMIN, channel=channel)

    @classmethod
    def operator(cls, channel: str = "cli") -> Actor:
        """The installation's operator, for the writes that belong to no clinic yet."""
        return cls(clinic=None, role=OPERATOR, channel=channel)  # type: ignore[arg-type]

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR

    @classmethod
    def of_patient(cls, patient: Patient, **where) -> Actor:
        """The patient, signed in to the portal: may act on their own record only."""
        return cls(
            clinic=patient.clinic, role=PATIENT, channel="portal", portal_patient=patient, **where
        )

    @classmethod
    def public(cls, clinic: Clinic, **where) -> Actor:
        """Someone booking a first consultation with `clinic` from the public directory."""
        return cls(clinic=clinic, role=PUBLIC, channel="portal", **where)

    @property
    def is_patient(self) -> bool:
        return self.role == PATIENT

    def require_self(self, patient: Patient) -> None:
        """For a patient actor: 404 unless `patient` is the signed-in patient."""
        if self.is_patient and (
            self.portal_patient is None or self.portal_patient.pk != patient.pk
        ):
            raise not_found("patient")

    @property
    def username(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.is_patient:
            return f"(patient {self.portal_patient.pk})"
        return "(command line)" if self.channel == "cli" else f"({self.channel})"

    @property
    def is_clinical(self) -> bool:
        return self.role in CLINICAL

    @property
    def display_name(self) -> str:
        return self.staff.display_name if self.staff else self.username

    def require(self, roles: Iterable[str], what: str = "") -> None:
        """403 unless the actor's role is one of `roles`."""
        if self.role not in frozenset(roles):
            raise forbidden(
                f"your role does not allow {what}"
                if what
                else "your role does not give access to this"
            )

    def own(self, obj, field: str = "id"):
        """`obj` if it belongs to the actor's clinic (directly or through its patient), else 404."""
        clinic_id = getattr(obj, "clinic_id", None)
        if clinic_id is None and hasattr(obj, "patient"):
            clinic_id = obj.patient.clinic_id
        if clinic_id != self.clinic.pk:
            raise not_found(field)
        return obj

    def patient(self, patient_id: int, field: str = "patient") -> Patient:
        patient = Patient.objects.filter(pk=patient_id, clinic=self.clinic).first()
        if patient is None:
            raise not_found(field)
        return patient
