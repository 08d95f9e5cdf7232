"""The public directory: who is listed, the filters, and that no patient data ever shows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dermis.web.clinic.directory.selectors import postcode_matches
from dermis.web.clinic.models import Role, StaffMember
from dermis.web.clinic.tenancy import services as tenancy
from tests import factories
from tests.personas import PASSWORD


def _names(response) -> set[str]:
    return {entry["staff"].display_name for entry in response.context["entries"]}


@pytest.fixture
def more_staff(world):
    """A listed front-desk user, an unlisted practitioner, and a listed but deactivated one."""

    def add(username, role, name, **extra):
        return factories.staff_member(world.alice, username, role, name, password=PASSWORD, **extra)

    add("fred", Role.FRONT_DESK, "Fred Frontdesk", listed_in_directory=True)
    add("una", Role.PRACTITIONER, "Una Unlisted", treatments=["microneedling"])
    gone = add("gina", Role.PRACTITIONER, "Gina Gone", listed_in_directory=True)
    gone.user.is_active = False
    gone.user.save()
    lucy = add(
        "lucy",
        Role.PRACTITIONER,
        "Lucy Leeds",
        treatments=["microdermabrasion"],
        listed_in_directory=True,
        bio="Ten years of skin care.",
    )
    outer = factories.location(world.alice, "Headingley", address="5 Otley Rd", postcode="LS6 3AA")
    tenancy.update_staff(factories.actor(world.alice), lucy, locations=[outer])
    return {"lucy": lucy, "gone": gone}


def test_lists_only_listed_active_clinical_staff(world, client_as, more_staff):
    response = client_as("anonymous").get(reverse("directory"))
    assert response.status_code == 200
    assert _names(response) == {"Pat Practitioner", "Oscar Other", "Lucy Leeds"}
    html = response.content.decode()
    for hidden in ("Fred Frontdesk", "Una Unlisted", "Gina Gone", "Alice Admin", "Fran Desk"):
        assert hidden not in html
    assert "Level 4 Skin Therapy" in html
    assert "Riverside Aesthetics" in html


def test_no_patient_data_anywhere(world, client_as, more_staff):
    pages = [
        reverse("directory"),
        reverse("directory") + "?treatment=microneedling&where=LS1",
        reverse("directory-practitioner", args=[world.pat.pk]),
        reverse("directory-practitioner", args=[world.oscar.pk]),
    ]
    for url in pages:
        html = client_as("anonymous").get(url).content.decode()
        for secret in ("Nora", "Quinn", "Rhys", "Owen", "07700 900123", "nora@example.org"):
            assert secret not in html, (url, secret)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"treatment": "microneedling"}, {"Pat Practitioner", "Oscar Other"}),
        ({"treatment": "microdermabrasion"}, {"Pat Practitioner", "Lucy Leeds"}),
        ({"where": "leeds"}, {"Pat Practitioner", "Lucy Leeds"}),
        ({"where": "  YORK "}, {"Oscar Other"}),
        ({"where": "LS1"}, {"Pat Practitioner"}),
        ({"where": "ls1 9zz"}, {"Pat Practitioner"}),
        ({"where": "LS6"}, {"Pat Practitioner", "Lucy Leeds"}),  # Pat: all branches
        ({"where": "ls"}, {"Pat Practitioner", "Lucy Leeds"}),
        ({"where": "YO1 7HH"}, {"Oscar Other"}),
        ({"where": "LS12"}, set()),
        ({"where": "Bradford"}, set()),
        ({"treatment": "microneedling", "where": "York"}, {"Oscar Other"}),
        ({"treatment": "microdermabrasion", "where": "York"}, set()),
    ],
)
def test_filters(world, client_as, more_staff, query, expected):
    response = client_as("anonymous").get(reverse("directory"), query)
    assert response.status_code == 200
    assert _names(response) == expected


def test_unknown_treatment_is_a_named_error(world, client_as):
    response = client_as("anonymous").get(reverse("directory") + "?treatment=laser")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist"' in html
    assert "Treatment:" in html
    assert 'aria-invalid="true"' in html


def test_postcode_outward_code_matching():
    assert postcode_matches("LS1", "LS1 4AP")
    assert postcode_matches("ls14ap", "LS1 4AP")
    assert not postcode_matches("LS1", "LS12 3AB")
    assert postcode_matches("LS12", "LS12 3AB")
    assert postcode_matches("SW1A", "SW1A 1AA")
    assert not postcode_matches("SW1", "SW1A 1AA")
    assert not postcode_matches("", "LS1 4AP")


def test_practitioner_page(world, client_as, more_staff):
    response = client_as("anonymous").get(
        reverse("directory-practitioner", args=[more_staff["lucy"].pk])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lucy Leeds" in html
    assert "Ten years of skin care." in html
    assert "5 Otley Rd" in html
    assert "Microdermabrasion" in html


@pytest.mark.parametrize("who", ["fran", "alice"])
def test_practitioner_page_404_when_not_listed(world, client_as, who):
    pk = getattr(world, who).pk
    assert (
        client_as("anonymous").get(reverse("directory-practitioner", args=[pk])).status_code == 404
    )


def test_practitioner_page_404_for_front_desk_even_if_flagged(world, client_as, more_staff):
    fred = StaffMember.objects.get(display_name="Fred Frontdesk")
    response = client_as("pat").get(reverse("directory-practitioner", args=[fred.pk]))
    assert response.status_code == 404
    gone = client_as("anonymous").get(
        reverse("directory-practitioner", args=[more_staff["gone"].pk])
    )
    assert gone.status_code == 404


def test_directory_is_read_only(world, client_as):
    assert client_as("anonymous").post(reverse("directory")).status_code == 405
