"""Reading a clinic's locations, staff and API tokens (never a token's secret: only its hash is
stored)."""

from __future__ import annotations

from django.db.models import QuerySet

from dermis.web.api.models import ApiToken
from dermis.web.clinic.models import Clinic, Location, StaffMember


def locations(clinic: Clinic) -> QuerySet[Location]:
    return Location.objects.filter(clinic=clinic).order_by("name", "pk")


def staff(clinic: Clinic) -> QuerySet[StaffMember]:
    return (
        StaffMember.objects.filter(clinic=clinic)
        .select_related("user")
        .order_by("display_name", "pk")
    )


def tokens(clinic: Clinic) -> QuerySet[ApiToken]:
    """The API tokens of the clinic's staff, newest first."""
    return ApiToken.objects.filter(user__staff__clinic=clinic).select_related("user")
