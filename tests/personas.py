"""Named people of two clinics, for every web test (one place to read who may do what).

Northgate Skin Clinic: alice (admin), pat (practitioner), fran (front desk); patient Nora Quinn.
Riverside Aesthetics: oscar (practitioner); patient Rhys Owen.
nobody: a user with no clinic. Anonymous: no user at all.

The two clinics, their locations and staff are stored directly, as `stored_patient` stores the
patients, so that every test starts from an empty audit trail; tests that add clinics, places or
staff use `tests/factories.py` (tenancy's services).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from dermis.web.clinic.models import Clinic, Location, Patient, Role, StaffMember
from dermis.web.clinic.patients.services import keep_normalised

PASSWORD = "correct-horse-battery-staple-7"


def stored_patient(**fields) -> Patient:
    """A patient row as the patients service stores it (with its normalised search columns), for
    fixtures that must not leave an audit row."""
    patient = Patient(**fields)
    keep_normalised(patient)
    patient.save()
    return patient


PERSONAS = ("anonymous", "nobody", "fran", "pat", "alice", "oscar")


@dataclass
class World:
    northgate: Clinic
    riverside: Clinic
    alice: StaffMember
    pat: StaffMember
    fran: StaffMember
    oscar: StaffMember
    nobody: object
    nora: Patient
    rhys: Patient

    def user(self, persona: str):
        if persona == "nobody":
            return self.nobody
        return getattr(self, persona).user


def password_hash() -> str:
    """PASSWORD hashed once per run and hasher list: Argon2 is slow on purpose; logging in
    still checks the hash. Keyed by the hashers, as some tests switch to a fast one."""
    return _hashed(tuple(settings.PASSWORD_HASHERS))


@functools.cache
def _hashed(hashers: tuple[str, ...]) -> str:
    return make_password(PASSWORD)


def make_user(username: str):
    user = get_user_model().objects.create_user(username, f"{username}@example.org")
    user.password = password_hash()
    user.save(update_fields=["password"])
    return user


def _staff(clinic: Clinic, username: str, role: str, name: str, **extra) -> StaffMember:
    user = make_user(username)
    return StaffMember.objects.create(
        user=user, clinic=clinic, role=role, display_name=name, **extra
    )


def build_world() -> World:
    northgate = Clinic.objects.create(
        name="Northgate Skin Clinic", slug="northgate", town="Leeds", postcode="LS1 4AP"
    )
    Location.objects.create(
        clinic=northgate, name="Main", address="1 Northgate", town="Leeds", postcode="LS1 4AP"
    )
    riverside = Clinic.objects.create(
        name="Riverside Aesthetics", slug="riverside", town="York", postcode="YO1 7HH"
    )
    Location.objects.create(
        clinic=riverside, name="Main", address="2 Ouse Walk", town="York", postcode="YO1 7HH"
    )
    world = World(
        northgate=northgate,
        riverside=riverside,
        alice=_staff(northgate, "alice", Role.ADMIN, "Alice Admin"),
        pat=_staff(
            northgate,
            "pat",
            Role.PRACTITIONER,
            "Pat Practitioner",
            credentials="Level 4 Skin Therapy",
            treatments=["microneedling", "microdermabrasion"],
            listed_in_directory=True,
        ),
        fran=_staff(northgate, "fran", Role.FRONT_DESK, "Fran Desk"),
        oscar=_staff(
            riverside,
            "oscar",
            Role.PRACTITIONER,
            "Oscar Other",
            treatments=["microneedling"],
            listed_in_directory=True,
        ),
        nobody=make_user("nobody"),
        nora=stored_patient(
            clinic=northgate,
            given_name="Nora",
            family_name="Quinn",
            date_of_birth=date(1985, 3, 14),
            phone="07700 900123",
            email="nora@example.org",
        ),
        rhys=stored_patient(
            clinic=riverside,
            given_name="Rhys",
            family_name="Owen",
            date_of_birth=date(1979, 11, 2),
        ),
    )
    return world
