"""Clinics, their locations and staff, and the roles that decide who sees what."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dermis.web.clinic import clock
from dermis.web.clinic.models.loading import FastLoad

MODALITIES = [("microneedling", "Microneedling"), ("microdermabrasion", "Microdermabrasion")]


PHOTOTYPES = [(p, p) for p in ("I", "II", "III", "IV", "V", "VI")]


SEXES = [("f", "Female"), ("m", "Male"), ("x", "Other / not stated")]


class Role(models.TextChoices):
    ADMIN = "admin", "Clinic admin"
    PRACTITIONER = "practitioner", "Practitioner"
    FRONT_DESK = "front_desk", "Front desk"


# Roles that may see medical history, clinical notes, plans, sessions and photos.


CLINICAL_ROLES = frozenset({Role.ADMIN, Role.PRACTITIONER})


class Clinic(FastLoad, models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=16)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    country = models.CharField(
        max_length=2,
        default="GB",
        blank=True,
        help_text="ISO 3166 code: the region phone numbers are read in when typed without +"
        " (GB when empty)",
    )
    screening_max_age_days = models.PositiveSmallIntegerField(
        default=90,
        help_text="a screening older than this needs an 'anything changed?' check at the chair",
    )
    # Accounts (clinic/accounts): admins always need a second factor; the clinic may ask it of
    # every member of staff. A session idle this long is logged out.
    require_two_factor = models.BooleanField(
        default=False, help_text="every member of staff must use a second factor (TOTP)"
    )
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="log out a session idle for this many minutes"
    )
    cancel_notice_hours = models.PositiveSmallIntegerField(
        default=24, help_text="a cancellation with less notice than this is a late cancellation"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Location(FastLoad, models.Model):
    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=16)
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO country code for public holidays, e.g. GB"
    )
    subdivision = models.CharField(
        max_length=10, blank=True, help_text="region for public holidays, e.g. ENG or SCT"
    )

    class Meta:
        ordering = ["clinic", "name"]

    def __str__(self) -> str:
        return f"{self.clinic.name}, {self.name}"


class StaffMember(FastLoad, models.Model):
    """A user's place in one clinic. A user without one sees no patient."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    display_name = models.CharField(max_length=200)
    credentials = models.CharField(
        max_length=300, blank=True, help_text="qualifications and registrations, shown publicly"
    )
    treatments = models.JSONField(
        default=list, blank=True, help_text="modalities offered, e.g. ['microneedling']"
    )
    bio = models.TextField(blank=True)
    locations = models.ManyToManyField("clinic.Location", blank=True, related_name="staff")
    listed_in_directory = models.BooleanField(default=False)

    class Meta:
        ordering = ["clinic", "display_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()}, {self.clinic.name})"

    @property
    def is_clinical(self) -> bool:
        return self.role in CLINICAL_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN
