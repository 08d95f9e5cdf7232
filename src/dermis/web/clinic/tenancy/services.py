"""Clinics, their locations and staff: the only writer of these rows (API tokens: `tokens.py`).

A clinic is created by the installation's operator (`Actor.operator`: the command line, the demo
seeder, a bootstrap); no member of staff can create one. Everything else is the clinic's admin's
(or the clinic's own system actor's) to change, for their own clinic only. Each write validates
its fields (one `ServiceError` naming the first bad one) and is audited in its own transaction.
The Django admin site (superusers only, `clinic/admin.py`) still writes these rows itself: it
is the operator's own tool, outside the clinics' permissions.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from dermis.web.clinic.actors import ADMIN_ONLY, Actor
from dermis.web.clinic.audit import Action, record
from dermis.web.clinic.errors import ServiceError, forbidden, not_found
from dermis.web.clinic.models import MODALITIES, Clinic, Location, Role, StaffMember

CLINIC_FIELDS = frozenset(
    {
        "name",
        "slug",
        "town",
        "postcode",
        "phone",
        "email",
        "website",
        "country",
        "screening_max_age_days",
        "require_two_factor",
        "idle_timeout_minutes",
        "cancel_notice_hours",
    }
)
LOCATION_FIELDS = frozenset({"name", "address", "town", "postcode", "country", "subdivision"})
STAFF_FIELDS = frozenset(
    {"role", "display_name", "credentials", "treatments", "bio", "listed_in_directory"}
)
TREATMENTS = frozenset(m for m, _ in MODALITIES)


def _valid(obj, exclude: Iterable[str] = ()) -> None:
    """The model's own field checks, as one ServiceError naming the first field refused."""
    for value in ("name", "display_name", "address", "town", "postcode"):
        current = getattr(obj, value, None)
        if isinstance(current, str):
            setattr(obj, value, current.strip())
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=True)
    except ValidationError as err:
        field, messages = next(iter(err.message_dict.items()))
        raise ServiceError(field, str(messages[0]).rstrip(".").lower()) from None


def _apply(obj, changes: dict, allowed: frozenset[str]) -> list[str]:
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ServiceError(unknown[0], "cannot be changed here")
    changed = [k for k, v in changes.items() if getattr(obj, k) != v]
    for key in changed:
        setattr(obj, key, changes[key])
    return changed


def _admin_of(actor: Actor, clinic_id: int, what: str) -> None:
    actor.require(ADMIN_ONLY, what)
    if actor.clinic is None or actor.clinic.pk != clinic_id:
        raise not_found("clinic")


def create_clinic(actor: Actor, **fields) -> Clinic:
    """A new clinic (the operator only). Its audit row is the clinic's first."""
    if not actor.is_operator:
        raise forbidden("only the installation's operator may create a clinic")
    clinic = Clinic()
    _apply(clinic, fields, CLINIC_FIELDS)
    _valid(clinic)
    try:
        with transaction.atomic():
            clinic.save()
            record(Actor.system(clinic, actor.channel), Action.CREATE, clinic, summary="clinic")
    except IntegrityError:  # the same slug taken at the same moment
        raise ServiceError("slug", "clinic with this slug already exists") from None
    return clinic


def update_clinic(actor: Actor, clinic: Clinic, **changes) -> Clinic:
    """Change the clinic's details and settings (its admin)."""
    _admin_of(actor, clinic.pk, "changing the clinic's details")
    changed = _apply(clinic, changes, CLINIC_FIELDS)
    if not changed:
        return clinic
    _valid(clinic)
    with transaction.atomic():
        clinic.save(update_fields=changed)
        record(actor, Action.UPDATE, clinic, summary=f"clinic: {', '.join(sorted(changed))}")
    return clinic


def add_location(actor: Actor, **fields) -> Location:
    """A new location of the actor's clinic (its admin)."""
    _admin_of(actor, actor.clinic.pk if actor.clinic else 0, "adding a location")
    location = Location(clinic=actor.clinic)
    _apply(location, fields, LOCATION_FIELDS)
    _valid(location, exclude=["clinic"])
    with transaction.atomic():
        location.save()
        record(actor, Action.CREATE, location, summary="location")
    return location


def update_location(actor: Actor, location: Location, **changes) -> Location:
    _admin_of(actor, location.clinic_id, "changing a location")
    changed = _apply(location, changes, LOCATION_FIELDS)
    if not changed:
        return location
    _valid(location, exclude=["clinic"])
    with transaction.atomic():
        location.save(update_fields=changed)
        record(actor, Action.UPDATE, location, summary=f"location: {', '.join(sorted(changed))}")
    return location


def _check_staff(member: StaffMember, locations: Iterable[Location] | None) -> list[Location]:
    if member.role not in Role.values:
        raise ServiceError("role", f"must be one of {', '.join(Role.values)}")
    treatments = member.treatments
    if not isinstance(treatments, list) or not set(treatments) <= TREATMENTS:
        raise ServiceError("treatments", f"must be a list of {', '.join(sorted(TREATMENTS))}")
    _valid(member, exclude=["user", "clinic", "locations"])
    places = list(locations or ())
    if any(place.clinic_id != member.clinic_id for place in places):
        raise ServiceError("locations", "is not one of this clinic's")
    return places


def add_staff(
    actor: Actor, *, user, locations: Iterable[Location] | None = None, **fields
) -> StaffMember:
    """Make `user` (an account with no place yet) a member of the actor's clinic's staff."""
    _admin_of(actor, actor.clinic.pk if actor.clinic else 0, "adding a member of staff")
    if not isinstance(user, get_user_model()) or user.pk is None:
        raise ServiceError("user", "no such user")
    if StaffMember.objects.filter(user=user).exists():
        raise ServiceError("user", "is already a member of a clinic's staff")
    member = StaffMember(user=user, clinic=actor.clinic)
    _apply(member, fields, STAFF_FIELDS)
    places = _check_staff(member, locations)
    try:
        with transaction.atomic():
            member.save()
            if places:
                member.locations.set(places)
            record(actor, Action.CREATE, member, summary=f"staff member, role {member.role}")
    except IntegrityError:  # the same user added at the same moment
        raise ServiceError("user", "is already a member of a clinic's staff") from None
    return member


def update_staff(
    actor: Actor,
    member: StaffMember,
    *,
    locations: Iterable[Location] | None = None,
    **changes,
) -> StaffMember:
    """Change a member of staff's role, public profile or locations (`locations`: all of them)."""
    _admin_of(actor, member.clinic_id, "changing a member of staff")
    changed = _apply(member, changes, STAFF_FIELDS)
    if member.pk == getattr(actor.staff, "pk", None) and member.role != Role.ADMIN:
        raise ServiceError("role", "an admin cannot take away their own admin role")
    places = _check_staff(member, locations)
    moved = locations is not None and {p.pk for p in places} != set(
        member.locations.values_list("pk", flat=True)
    )
    if not changed and not moved:
        return member
    with transaction.atomic():
        if changed:
            member.save(update_fields=changed)
        if moved:
            member.locations.set(places)
            changed.append("locations")
        record(actor, Action.UPDATE, member, summary=f"staff: {', '.join(sorted(changed))}")
    return member
