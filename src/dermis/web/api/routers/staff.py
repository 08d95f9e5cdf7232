"""The clinic's practitioners (staff only) and the public directory (no token, no patient data)."""

from __future__ import annotations

from ninja import Query, Router

from dermis.web.api.auth import require_staff
from dermis.web.api.schemas import DirectoryEntry, DirectoryQuery, StaffOut
from dermis.web.clinic.access import ANY_STAFF
from dermis.web.clinic.directory.selectors import listed, matches_place, places
from dermis.web.clinic.models import StaffMember

router = Router(tags=["practitioners"])
public = Router(tags=["directory"], auth=None)


def _location(loc) -> dict:
    return {"name": loc.name, "address": loc.address, "town": loc.town, "postcode": loc.postcode}


def _treatments(staff: StaffMember) -> list[str]:
    return [t for t in staff.treatments or [] if isinstance(t, str)]


@router.get("/practitioners", response=list[StaffOut], summary="The clinic's staff")
def list_staff(request):
    staff = require_staff(request, ANY_STAFF)
    people = (
        StaffMember.objects.filter(clinic=staff.clinic)
        .prefetch_related("locations")
        .order_by("display_name", "pk")
    )
    return [
        {
            "id": s.pk,
            "display_name": s.display_name,
            "role": s.role,
            "credentials": s.credentials,
            "treatments": _treatments(s),
            "listed_in_directory": s.listed_in_directory,
            "locations": [_location(loc) for loc in s.locations.all()],
        }
        for s in people
    ]


@public.get("/directory", response=list[DirectoryEntry], summary="Public practitioner directory")
def directory(request, query: Query[DirectoryQuery]):
    """Listed clinical staff of every clinic, filtered by treatment and town or postcode.
    The same selection as the public directory page."""
    people = list(listed())
    if query.treatment:
        people = [s for s in people if query.treatment in _treatments(s)]
    if query.where and query.where.strip():
        people = [s for s in people if matches_place(s, query.where)]
    return [
        {
            "id": s.pk,
            "display_name": s.display_name,
            "credentials": s.credentials,
            "treatments": _treatments(s),
            "bio": s.bio,
            "clinic": {
                name: getattr(s.clinic, name)
                for name in ("name", "town", "postcode", "phone", "email", "website")
            },
            "locations": [_location(loc) for loc in places(s)],
        }
        for s in people
    ]
