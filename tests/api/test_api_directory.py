"""Practitioners (staff) and the public directory (no token, listed clinical staff only)."""

from __future__ import annotations

import json


def test_directory_lists_only_listed_practitioners_without_a_token(world, api_as):
    world.fran.listed_in_directory = True  # front desk never appears, whatever the flag says
    world.fran.save()

    entries = api_as("anonymous").get("/api/v1/directory").json()

    assert sorted(e["display_name"] for e in entries) == ["Oscar Other", "Pat Practitioner"]
    text = json.dumps(entries)
    assert "Nora" not in text and "Quinn" not in text and "role" not in entries[0]


def test_directory_filters_by_treatment_and_place(world, api_as):
    client = api_as("anonymous")

    dermabrasion = client.get("/api/v1/directory", treatment="microdermabrasion").json()
    york = client.get("/api/v1/directory", where="YO1").json()

    assert [e["display_name"] for e in dermabrasion] == ["Pat Practitioner"]
    assert [e["display_name"] for e in york] == ["Oscar Other"]


def test_practitioners_are_the_clinics_own_staff(world, api_as):
    staff = api_as("fran").get("/api/v1/practitioners").json()

    assert {s["display_name"]: s["role"] for s in staff} == {
        "Alice Admin": "admin",
        "Fran Desk": "front_desk",
        "Pat Practitioner": "practitioner",
    }


def test_the_staff_list_reads_as_each_members_own_record(world, api_as):
    """Read as columns, each member is what their record says: treatments' names only, and
    their locations in the locations' own order (clinic, then name)."""
    from tests import factories

    york = factories.location(world.pat, "York <annex>", town="York", postcode="YO1 7HH")
    abbey = factories.location(world.pat, "Abbey Road", town="Leeds")
    world.pat.locations.add(york, abbey)
    world.pat.treatments = ["microneedling", 7, None, "microdermabrasion"]
    world.pat.save()
    nobody_yet = factories.staff_member(world.pat, "new", "practitioner", "Ned New")
    listed = api_as("fran").get("/api/v1/practitioners").json()
    assert [s["display_name"] for s in listed] == [
        "Alice Admin", "Fran Desk", "Ned New", "Pat Practitioner",
    ]  # fmt: skip
    for entry in listed:
        member = world.northgate.staff.get(pk=entry["id"])
        assert entry == {
            "id": member.pk,
            "display_name": member.display_name,
            "role": member.role,
            "credentials": member.credentials,
            "treatments": [t for t in member.treatments or [] if isinstance(t, str)],
            "listed_in_directory": member.listed_in_directory,
            "locations": [
                {"name": p.name, "address": p.address, "town": p.town, "postcode": p.postcode}
                for p in member.locations.all()
            ],
        }
    pat = next(s for s in listed if s["id"] == world.pat.pk)
    assert pat["treatments"] == ["microneedling", "microdermabrasion"]
    names = [p["name"] for p in pat["locations"]]
    assert {"Abbey Road", "York <annex>"} <= set(names) and names == sorted(names)
    assert next(s for s in listed if s["id"] == nobody_yet.pk)["locations"] == []
