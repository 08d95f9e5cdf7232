"""The clinic's practitioners (staff only) and the public directory (no token, no patient data)."""

from __future__ import annotations

from collections import defaultdict

from ninja import Query, Router

from dermis.web.api.auth import require_staff
from dermis.web.api.schemas import DirectoryEntry, DirectoryQuery, StaffOut
from dermis.web.clinic.access import ANY_STAFF
from dermis.web.clinic.directory.selectors import listed, matches_place, places
from dermis.web.clinic.models import StaffMember
from dermis.web.clinic.prepared import PreparedValues

router = Router(tags=["practitioners"])
public = Router(tags=["directory"], auth=None)


PLACE_FIELDS = ("name", "address", "town", "postcode")


def _location(loc) -> dict:
    return {f: getattr(loc, f) for f in PLACE_FIELDS}


def _treatments(stored) -> list[str]:
    """A staff member's treatments as stored (a JSON list), the names only."""
    return [t for t in stored or [] if isinstance(t, str)]


STAFF_FIELDS = ("pk", "display_name", "role", "credentials", "treatments", "listed_in_directory")


# Composed once per process (clinic/prepared.py): composing them took a third of the list's time.
LINKS = PreparedValues(  # every member's locations, in the locations' own order
    StaffMember,
    lambda clinic: (
        StaffMember.locations.through.objects.filter(staffmember__clinic_id=clinic)
        .order_by("location__clinic", "location__name", "location__pk")
        .values_list("staffmember_id", *(f"location__{f}" for f in PLACE_FIELDS))
    ),
    clinic=int,
)
PEOPLE = PreparedValues(
    StaffMember,
    lambda clinic: (
        StaffMember.objects.filter(clinic_id=clinic)
        .order_by("display_name", "pk")
        .values_list(*STAFF_FIELDS)
    ),
    clinic=int,
)


@router.get("/practitioners", response=list[StaffOut], summary="The clinic's staff")
def list_staff(request):
    """Read as columns (the staff, then every one's locations in one query): for a clinic of 25,
    a model object and a related manager each had cost about 1 ms of the list's 9–10 ms."""
    staff = require_staff(request, ANY_STAFF)
    places: dict[int, list[dict]] = defaultdict(list)
    for staff_id, *place in LINKS.rows(clinic=staff.clinic_id):
        places[staff_id].append(dict(zip(PLACE_FIELDS, place, strict=True)))
    people = PEOPLE.rows(clinic=staff.clinic_id)
    return [
        {
            "id": pk,
            "display_name": name,
            "role": role,
            "credentials": credentials,
            "treatments": _treatments(treatments),
            "listed_in_directory": listed,
            "locations": places.get(pk, []),
        }
        for pk, name, role, credentials, treatments, listed in people
    ]


@public.get("/directory", response=list[DirectoryEntry], summary="Public practitioner directory")
def directory(request, query: Query[DirectoryQuery]):
    """Listed clinical staff of every clinic, filtered by treatment and town or postcode.
    The same selection as the public directory page."""
    people = list(listed())
    if query.treatment:
        people = [s for s in people if query.treatment in _treatments(s.treatments)]
    if query.where and query.where.strip():
        people = [s for s in people if matches_place(s, query.where)]
    return [
        {
            "id": s.pk,
            "display_name": s.display_name,
            "credentials": s.credentials,
            "treatments": _treatments(s.treatments),
            "bio": s.bio,
            "clinic": {
                name: getattr(s.clinic, name)
                for name in ("name", "town", "postcode", "phone", "email", "website")
            },
            "locations": [_location(loc) for loc in places(s)],
        }
        for s in people
    ]
