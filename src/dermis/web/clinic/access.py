"""Who may see what, in one place, and the audit trail every clinical view writes to.

Rules (checked for every page by tests/web/test_authorisation_matrix.py):
- anonymous users see the login page, the public directory and /healthz, nothing else;
- a user without a StaffMember row sees no patient;
- staff see only their own clinic's patients; another clinic's patient is a 404, not a 403,
  so a guessed id does not even confirm that the record exists;
- front desk sees demographics and appointments; medical history, consultations, plans,
  sessions, photos, grades and documents need a clinical role (admin or practitioner);
- the audit log is for the clinic admin only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from dermis.web.clinic.actors import ADMIN_ONLY, ANY_STAFF, CLINICAL, Actor
from dermis.web.clinic.audit import record
from dermis.web.clinic.client_address import client_address
from dermis.web.clinic.errors import PatientMerged
from dermis.web.clinic.models import AuditEvent, Patient, StaffMember
from dermis.web.clinic.patients.selectors import merged_into
from dermis.web.clinic.prepared import PreparedRows

__all__ = ["ADMIN_ONLY", "ANY_STAFF", "CLINICAL", "actor_of", "audit", "staff_required"]


_UNSET = object()


def staff_of(request: HttpRequest) -> StaffMember | None:
    user = request.user
    if not user.is_authenticated:
        return None
    cached = getattr(request, "_staff_member", _UNSET)
    if cached is not _UNSET:
        return cached
    if user._state.fields_cache.keys() >= {"staff"}:
        # read with the user by the sign-in backend (`accounts.backends`): no query
        staff = getattr(user, "staff", None)
    else:
        # One query for the member of staff and their clinic, which every page asks for next.
        staff = StaffMember.objects.select_related("clinic").filter(user=user).first()
        if staff is not None:
            user.staff = staff  # fills the user's cached relation: later `user.staff` asks nothing
    request._staff_member = staff
    return staff


def staff_context(request: HttpRequest) -> dict:
    """Template context: `staff` (or None) and `clinical` (may see medical content)."""
    staff = staff_of(request)
    return {"staff": staff, "clinical": bool(staff and staff.is_clinical)}


def staff_required(roles: Iterable[str] = ANY_STAFF) -> Callable:
    """View decorator: logged in, a member of staff, in one of `roles`; sets request.staff.

    Anonymous users are sent to the login page; a logged-in user without the role gets 403.
    """
    allowed = frozenset(roles)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = staff_of(request)
            if staff is None or staff.role not in allowed:
                raise PermissionDenied("Your role does not give access to this page.")
            request.staff = staff
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# Every patient page's first read: composed once per process (clinic/prepared.py).
PATIENT_IN_CLINIC = PreparedRows(
    Patient,
    lambda patient, clinic: Patient.objects.filter(pk=patient, clinic_id=clinic),
    patient=int,
    clinic=int,
)


def clinic_patient(request: HttpRequest, patient_id: int) -> Patient:
    """The patient with this id in the requesting staff member's clinic, else 404 (or, when
    reading a record merged into another, `PatientMerged`: the middleware redirects)."""
    clinic = request.staff.clinic
    found = PATIENT_IN_CLINIC.rows(1, patient=patient_id, clinic=clinic.pk)
    patient = found[0] if found else None
    if patient is not None:
        patient.clinic = clinic  # the same row, read with the staff member: no second read
        return patient
    if request.method in ("GET", "HEAD"):
        kept = merged_into(clinic, patient_id)
        if kept is not None:
            raise PatientMerged(patient_id, kept)
    raise Http404("not found")


# Each model's object of a patient, with the patient, in the staff member's clinic: composed once
# per process and model (composing it took about as long as reading it).
_OF_CLINIC: dict[type, PreparedRows] = {}


def of_clinic(model) -> PreparedRows:
    """`model`'s object by id with its patient, if the patient is the clinic's (composed once)."""
    prepared = _OF_CLINIC.get(model)
    if prepared is None:
        prepared = _OF_CLINIC[model] = PreparedRows(
            model,
            lambda pk, clinic: model.objects.select_related("patient").filter(
                pk=pk, patient__clinic_id=clinic
            ),
            pk=int,
            clinic=int,
        )
    return prepared


def clinic_object(request: HttpRequest, model, pk: int, **filters):
    """An object whose `patient` belongs to the requesting staff member's clinic, else 404."""
    if filters:
        obj = get_object_or_404(model.objects.select_related("patient"), pk=pk, **filters)
    else:
        found = of_clinic(model).rows(1, pk=pk, clinic=request.staff.clinic_id)
        if not found:
            raise Http404("not found")
        obj = found[0]
    if obj.patient.clinic_id != request.staff.clinic_id:
        raise Http404("not found")
    obj.patient.clinic = request.staff.clinic  # the same row, read with the staff member
    return obj


def client_ip(request: HttpRequest) -> str | None:
    # Through DERMIS_TRUSTED_PROXIES reverse proxies only: X-Forwarded-For is otherwise forgeable.
    return client_address(request)


def actor_of(request: HttpRequest, channel: str = "web") -> Actor:
    """The requesting staff member as the services' actor (after `staff_required`)."""
    staff = getattr(request, "staff", None) or staff_of(request)
    if staff is None:
        raise PermissionDenied("Your account is not a member of a clinic's staff.")
    return Actor.of_staff(staff, channel=channel, path=request.path, ip_address=client_ip(request))


def audit(
    request: HttpRequest,
    action: str,
    obj: object | None = None,
    *,
    patient: Patient | None = None,
    summary: str = "",
    object_type: str = "",
) -> AuditEvent | None:
    """Record that the requesting user did `action` to `obj` (reads: views and downloads).

    Writes are audited by their service, in the write's own transaction.
    `summary` must never hold patient data (names, notes, findings): ids and kinds only.
    """
    staff = staff_of(request)
    if staff is None:
        return None
    return record(
        actor_of(request), action, obj, patient=patient, summary=summary, object_type=object_type
    )
