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
