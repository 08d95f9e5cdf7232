"""Who the public directory lists and where they work: shared by the page and the API.

Only clinical staff who chose to be listed, with an active account, ever appear; front desk
staff never do, whatever their flag says.
"""

from __future__ import annotations

import re

from dermis.web.clinic.models import CLINICAL_ROLES, MODALITIES, StaffMember

# A UK postcode without spaces: outward code (area letters, district) then the inward code.
_POSTCODE = re.compile(r"(?P<outward>(?P<area>[A-Z]{1,2})\d[A-Z\d]?)(?P<inward>\d[A-Z]{2})?")


def listed():
    return (
        StaffMember.objects.filter(
            listed_in_directory=True, role__in=CLINICAL_ROLES, user__is_active=True
        )
        .select_related("clinic")
        .prefetch_related("locations", "clinic__locations")
        .order_by("display_name", "pk")
    )


def places(staff: StaffMember) -> list:
    """Where the practitioner works: their own locations, else all of their clinic's."""
    return list(staff.locations.all()) or list(staff.clinic.locations.all())


def treatment_names(staff: StaffMember) -> list[str]:
    names = dict(MODALITIES)
    return [names.get(t, t) for t in staff.treatments or [] if isinstance(t, str)]


def _compact(postcode: str) -> str:
    return re.sub(r"\s+", "", postcode).upper()


def postcode_matches(query: str, postcode: str) -> bool:
    """ "LS1" or "LS1 9ZZ" match "LS1 4AP" (same outward code), "LS" matches any LS postcode;
    "LS1" does not match "LS12 3AB"."""
    q, target = _compact(query), _POSTCODE.fullmatch(_compact(postcode))
    if not q or target is None:
        return bool(q) and _compact(postcode).startswith(q)
    if q.isalpha():
        return q == target["area"]
    wanted = _POSTCODE.fullmatch(q)
    return wanted is not None and wanted["outward"] == target["outward"]


def matches_place(staff: StaffMember, query: str) -> bool:
    town = " ".join(query.split()).casefold()
    # Where they actually work: a practitioner at one branch is not found at the head office.
    spots = [(loc.town, loc.postcode) for loc in places(staff)]
    spots = spots or [(staff.clinic.town, staff.clinic.postcode)]
    return any(t.casefold() == town or postcode_matches(query, p) for t, p in spots)
