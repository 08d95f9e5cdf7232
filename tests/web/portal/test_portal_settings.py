"""The clinic's portal settings: the service (who may, what is valid, the audit trail) and the
admin's page (the same words beside the field, another clinic's settings out of reach)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import AuditEvent, PortalSettings, Role
from dermis.web.clinic.portal import selectors
from dermis.web.clinic.portal.settings_services import parse_days, update_portal_settings
from tests import factories
from tests.conftest import pass_second_factor
from tests.personas import _staff

GOOD = {"enabled": True, "out_of_hours_advice": "", "checkin_days": "1, 3"}


def save(staff, **changes):
    return update_portal_settings(factories.actor(staff), **{**GOOD, **changes})


def test_defaults_without_a_row(world):
    assert selectors.checkin_days(world.northgate) == (1, 3)
    assert selectors.portal_enabled(world.northgate)
    assert not PortalSettings.objects.exists()


def test_an_admin_saves_the_settings_and_it_is_audited(world):
    row = save(
        world.alice,
        enabled=False,
        out_of_hours_advice="  Call Dr Pat on 07700 900111  ",
        checkin_days="7, 1,3",
    )
    row.refresh_from_db()
    assert (row.enabled, row.out_of_hours_advice, row.checkin_days) == (
        False,
        "Call Dr Pat on 07700 900111",
        [1, 3, 7],
    )
    assert selectors.checkin_days(world.northgate) == (1, 3, 7)
    assert selectors.out_of_hours(world.northgate) == "Call Dr Pat on 07700 900111"
    event = AuditEvent.objects.get(object_type="PortalSettings")
    assert event.clinic == world.northgate and event.user == world.alice.user
    assert event.summary == "portal settings: portal off, check-ins 1, 3, 7"
    # saving again changes the one row
    save(world.alice, checkin_days=[1, 10])
    assert PortalSettings.objects.get().checkin_days == [1, 10]


@pytest.mark.parametrize("who", ["pat", "fran"])
def test_other_roles_may_not(world, who):
    with pytest.raises(ServiceError) as err:
        save(getattr(world, who), enabled=False)
    assert (err.value.status, err.value.field) == (403, "role")
    assert not PortalSettings.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ("", "choose at least one day"),
        ("0, 3", "each day must be from 1 to 14 after the session"),
        ("1, 15", "each day must be from 1 to 14 after the session"),
        ("-2", "each day must be from 1 to 14 after the session"),
        ("1, 3, 3", "day 3 is there twice"),
        ("1, 2, 3, 4, 5, 6", "choose at most 5 days"),
        ("1, three", "“three” is not a day: write whole numbers such as 1, 3, 7"),
        ("1.5", "“1.5” is not a day: write whole numbers such as 1, 3, 7"),
        ([True], "“True” is not a day: write whole numbers such as 1, 3, 7"),
    ],
)
def test_bad_days_are_refused_naming_the_field(world, days, words):
    with pytest.raises(ServiceError) as err:
        save(world.alice, checkin_days=days)
    assert (err.value.field, err.value.message, err.value.status) == ("checkin_days", words, 422)
    assert not PortalSettings.objects.exists() and not AuditEvent.objects.exists()


def test_days_are_read_in_any_order_and_spacing():
    assert parse_days(" 10,1  3 ") == [1, 3, 10]
    assert parse_days([14, "2"]) == [2, 14]


def test_too_long_advice_is_refused(world):
    with pytest.raises(ServiceError) as err:
        save(world.alice, out_of_hours_advice="x" * 1001)
    assert err.value.field == "out_of_hours_advice"


def test_the_page_shows_and_saves_the_clinics_settings(world, client_as):
    client = client_as("alice")
    page = client.get(reverse("portal-settings"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="1, 3"' in body and selectors.DEFAULT_OUT_OF_HOURS in body
    form = {"enabled": "on", "out_of_hours_advice": "Ring 0113 496 0000", "checkin_days": "1,3,7"}
    response = client.post(reverse("portal-settings"), form)
    assert response.status_code == 302 and response["Location"] == reverse("portal-settings")
    assert selectors.checkin_days(world.northgate) == (1, 3, 7)
    after = client.get(reverse("portal-settings")).content.decode()
    assert "Portal settings saved." in after and 'value="1, 3, 7"' in after
    assert "Ring 0113 496 0000" in after


def test_the_page_names_the_field_with_the_services_words(world, client_as):
    form = {"enabled": "off", "out_of_hours_advice": "", "checkin_days": "1, 3, 21"}
    response = client_as("alice").post(reverse("portal-settings"), form)
    assert response.status_code == 422
    assert "Each day must be from 1 to 14 after the session." in response.content.decode()
    assert not PortalSettings.objects.exists()
    missing = client_as("alice").post(reverse("portal-settings"), {"checkin_days": "1"})
    assert missing.status_code == 400 and b"This field is required." in missing.content


@pytest.mark.parametrize("who", ["pat", "fran", "oscar"])
def test_no_one_but_an_admin_may_post(world, client_as, who):
    form = {"enabled": "off", "out_of_hours_advice": "", "checkin_days": "2"}
    assert client_as(who).post(reverse("portal-settings"), form).status_code == 403
    assert not PortalSettings.objects.exists()


def test_another_clinics_admin_sees_and_changes_only_their_own(world, client_as):
    save(world.alice, out_of_hours_advice="Northgate's own advice", checkin_days="1, 5")
    rita = _staff(world.riverside, "rita", Role.ADMIN, "Rita Admin")
    client = Client()
    client.force_login(rita.user)
    pass_second_factor(client, rita.user)
    page = client.get(reverse("portal-settings")).content.decode()
    assert "Northgate's own advice" not in page and 'value="1, 3"' in page
    form = {"enabled": "off", "out_of_hours_advice": "", "checkin_days": "2"}
    assert client.post(reverse("portal-settings"), form).status_code == 302
    assert selectors.checkin_days(world.riverside) == (2,)
    assert not selectors.portal_enabled(world.riverside)
    assert selectors.checkin_days(world.northgate) == (1, 5)
    assert selectors.portal_enabled(world.northgate)


def test_admins_find_the_page_in_the_navigation(world, client_as):
    link = f'href="{reverse("portal-settings")}"'.encode()
    assert link in client_as("alice").get(reverse("dashboard")).content
    assert link not in client_as("fran").get(reverse("dashboard")).content
