"""Clinics, locations and staff through tenancy's services: the operator creates clinics, a
clinic's admin changes their own clinic only, every refusal names its field and writes nothing,
and every write leaves one audit row."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import AuditEvent, Clinic, Location, Role, StaffMember
from dermis.web.clinic.tenancy import selectors
from dermis.web.clinic.tenancy import services as tenancy
from tests import factories

NEW_CLINIC = {"name": "Harbour Skin", "slug": "harbour", "town": "Whitby", "postcode": "YO21 1AA"}
PLACE = {"name": "Quay", "address": "2 Quay", "town": "Whitby", "postcode": "YO21 1AB"}


@pytest.fixture
def rita(world) -> StaffMember:
    """Riverside's admin: an admin, but of the other clinic."""
    user = get_user_model().objects.create_user("rita")
    return tenancy.add_staff(
        Actor.system(world.riverside), user=user, role=Role.ADMIN, display_name="Rita Admin"
    )


def _refused(call, *args, **kwargs) -> ServiceError:
    before = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as refused:
        call(*args, **kwargs)
    assert AuditEvent.objects.count() == before  # nothing written, nothing audited
    return refused.value


def _audit(obj) -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(object_type=type(obj).__name__, object_id=str(obj.pk))
    return [(e.action, e.summary) for e in events.order_by("seq")]


def test_the_operator_creates_a_clinic_and_its_first_audit_row(world):
    clinic = tenancy.create_clinic(Actor.operator("cli"), **NEW_CLINIC)

    assert Clinic.objects.get(slug="harbour") == clinic
    event = AuditEvent.objects.get(object_type="Clinic", object_id=str(clinic.pk))
    assert (event.clinic_id, event.action, event.summary) == (clinic.pk, "create", "cli: clinic")


@pytest.mark.parametrize("persona", ["alice", "pat", "fran"])
def test_no_member_of_staff_may_create_a_clinic(world, persona):
    err = _refused(tenancy.create_clinic, factories.actor(getattr(world, persona)), **NEW_CLINIC)
    assert (err.status, err.field) == (403, "role")
    assert not Clinic.objects.filter(slug="harbour").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slug": "northgate"}, "slug"),  # taken
        ({"slug": "not a slug"}, "slug"),
        ({"email": "not-an-address"}, "email"),
        ({"name": "  "}, "name"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_clinic_field_is_named(world, changes, field):
    err = _refused(tenancy.create_clinic, Actor.operator(), **(NEW_CLINIC | changes))
    assert (err.status, err.field) == (422, field)


def test_the_admin_changes_their_clinic_audited_with_the_fields_changed(world):
    alice = factories.actor(world.alice)
    tenancy.update_clinic(alice, world.northgate, phone="0113 496 0000", idle_timeout_minutes=15)

    world.northgate.refresh_from_db()
    assert (world.northgate.phone, world.northgate.idle_timeout_minutes) == ("0113 496 0000", 15)
    assert _audit(world.northgate) == [("update", "clinic: idle_timeout_minutes, phone")]
    tenancy.update_clinic(alice, world.northgate, phone="0113 496 0000")  # no change: no row
    assert len(_audit(world.northgate)) == 1


def test_only_the_clinics_own_admin_changes_it(world, rita):
    for who in (world.pat, world.fran):
        err = _refused(tenancy.update_clinic, factories.actor(who), world.northgate, phone="1")
        assert err.status == 403
    err = _refused(tenancy.update_clinic, factories.actor(rita), world.northgate, phone="1")
    assert (err.status, err.field) == (404, "clinic")
    err = _refused(tenancy.update_clinic, factories.actor(world.alice), world.northgate, email="x")
    assert (err.status, err.field) == (422, "email")
    world.northgate.refresh_from_db()
    assert world.northgate.phone == "" and world.northgate.email == ""


def test_locations_are_added_and_changed_by_the_clinics_admin(world, rita):
    alice = factories.actor(world.alice)
    place = tenancy.add_location(alice, **PLACE)
    tenancy.update_location(alice, place, subdivision="ENG")

    assert place.clinic == world.northgate and place in selectors.locations(world.northgate)
    assert [a for a, _ in _audit(place)] == ["create", "update"]
    assert _refused(tenancy.add_location, factories.actor(world.fran), **PLACE).status == 403
    err = _refused(tenancy.update_location, factories.actor(rita), place, name="Mine")
    assert (err.status, err.field) == (404, "clinic")
    err = _refused(tenancy.add_location, alice, **(PLACE | {"postcode": ""}))
    assert (err.status, err.field) == (422, "postcode")
    err = _refused(tenancy.update_location, alice, place, clinic=world.riverside)
    assert err.field == "clinic"
    place.refresh_from_db()
    assert (place.name, place.clinic_id) == ("Quay", world.northgate.pk)


def test_staff_are_added_and_changed_by_the_clinics_admin(world, rita):
    alice = factories.actor(world.alice)
    place = tenancy.add_location(alice, **PLACE)
    user = get_user_model().objects.create_user("sam")
    sam = tenancy.add_staff(
        alice,
        user=user,
        role=Role.PRACTITIONER,
        display_name="Sam Smith",
        treatments=["microneedling"],
        locations=[place],
    )
    tenancy.update_staff(alice, sam, role=Role.FRONT_DESK, locations=[])

    sam.refresh_from_db()
    assert (sam.clinic, sam.role, list(sam.locations.all())) == (world.northgate, "front_desk", [])
    assert _audit(sam) == [
        ("create", "staff member, role practitioner"),
        ("update", "staff: locations, role"),
    ]
    assert sam in selectors.staff(world.northgate)
    assert sam not in selectors.staff(world.riverside)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"role": "owner"}, "role"),
        ({"treatments": ["botox"]}, "treatments"),
        ({"display_name": ""}, "display_name"),
        ({"clinic": "riverside"}, "clinic"),
    ],
)
def test_a_bad_staff_field_is_named(world, fields, field):
    user = get_user_model().objects.create_user("sam")
    profile = {"role": Role.PRACTITIONER, "display_name": "Sam"} | fields
    err = _refused(tenancy.add_staff, factories.actor(world.alice), user=user, **profile)
    assert (err.status, err.field) == (422, field)
    assert not StaffMember.objects.filter(user=user).exists()


def test_staff_refusals(world, rita):
    alice = factories.actor(world.alice)
    user = get_user_model().objects.create_user("sam")
    profile = {"role": Role.PRACTITIONER, "display_name": "Sam"}
    assert _refused(tenancy.add_staff, factories.actor(world.pat), user=user, **profile).status == (
        403
    )
    err = _refused(tenancy.add_staff, alice, user=world.oscar.user, **profile)  # another's
    assert (err.status, err.field) == (422, "user")
    theirs = Location.objects.get(clinic=world.riverside)
    err = _refused(tenancy.add_staff, alice, user=user, locations=[theirs], **profile)
    assert err.field == "locations"
    err = _refused(tenancy.update_staff, factories.actor(rita), world.pat, role=Role.ADMIN)
    assert (err.status, err.field) == (404, "clinic")
    err = _refused(tenancy.update_staff, alice, world.alice, role=Role.PRACTITIONER)
    assert err.field == "role"  # an admin does not lock the clinic out by demoting themselves
    world.alice.refresh_from_db()
    world.pat.refresh_from_db()
    assert (world.alice.role, world.pat.role) == ("admin", "practitioner")
