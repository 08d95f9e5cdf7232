"""Bearer tokens and the web app's access rules (dermis.web.clinic.access), for the API.

A token is "drm_" + 43 random characters; only its SHA-256 is stored, so a leaked database does
not leak working tokens (issued and revoked by `clinic/tenancy/tokens.py`). A request with a
usable token runs as the token's user: the same clinic and role rules, and the same audit trail,
as that user's pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from dermis.web.api.errors import TokenRejected, forbidden, not_found
from dermis.web.api.models import ApiToken
from dermis.web.clinic.access import PATIENT_IN_CLINIC, client_ip, of_clinic, staff_of
from dermis.web.clinic.accounts.backends import WITH_STAFF, read_with_user
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.errors import PatientMerged
from dermis.web.clinic.models import Patient, StaffMember
from dermis.web.clinic.patients.selectors import merged_into
from dermis.web.clinic.prepared import PreparedQuery
from dermis.web.clinic.tenancy.tokens import TOKEN_PREFIX, token_hash

# Composed once (clinic/prepared.py): read at the start of every API request.
TOKEN_WITH_USER = PreparedQuery(
    ApiToken,
    lambda digest: ApiToken.objects.select_related(
        *(f"user__{path}" for path in WITH_STAFF)
    ).filter(token_sha256=digest),
    str,
)


class TokenAuth(HttpBearer):
    """Authorization: Bearer <token>. Unknown, expired or revoked tokens get a 401."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise TokenRejected()
        # the token, its user and their place on the staff in one query (as the sign-in backend)
        row = TOKEN_WITH_USER.first(token_hash(token))
        now = timezone.now()
        if row is None or not row.usable(now):
            raise TokenRejected()
        # One write per minute at most, so a busy client does not write on every request.
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = read_with_user(row.user)
        return row


def require_staff(request: HttpRequest, roles: Iterable[str]) -> StaffMember:
    """The requesting staff member if their role is in `roles`, else 403 (as the web pages)."""
    staff = staff_of(request)
    if staff is None:
        raise forbidden("Your account is not a member of a clinic's staff.")
    if staff.role not in frozenset(roles):
        raise forbidden()
    request.staff = staff
    return staff


def api_actor(request: HttpRequest) -> Actor:
    """The services' actor for this API request (after `require_staff`)."""
    staff = getattr(request, "staff", None) or staff_of(request)
    if staff is None:
        raise forbidden("Your account is not a member of a clinic's staff.")
    return Actor.of_staff(staff, channel="api", path=request.path, ip_address=client_ip(request))


def clinic_patient(staff: StaffMember, patient_id: int) -> Patient:
    """A patient of the staff member's clinic; another clinic's is a 404, like a missing one."""
    clinic = staff.clinic
    found = PATIENT_IN_CLINIC.rows(1, patient=patient_id, clinic=clinic.pk)  # as the pages read
    patient = found[0] if found else None
    if patient is None:
        kept = merged_into(clinic, patient_id)
        if kept is not None:
            raise PatientMerged(patient_id, kept)
        raise not_found()
    patient.clinic = clinic  # the same row, read with the staff member: no second read
    return patient


def clinic_record(staff: StaffMember, model: type[models.Model], pk: int, **filters):
    """An object whose `patient` belongs to the staff member's clinic, else 404."""
    if filters:
        obj = model.objects.select_related("patient").filter(pk=pk, **filters).first()
    else:  # as the pages read it (composed once per process)
        found = of_clinic(model).rows(1, pk=pk, clinic=staff.clinic_id)
        obj = found[0] if found else None
    if obj is None or obj.patient.clinic_id != staff.clinic_id:
        raise not_found()
    return obj
