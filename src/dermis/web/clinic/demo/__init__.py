"""The demo world: two clinics, their staff and 50 patients at every stage of the journey.

`build_demo()` makes it in one transaction. The clinics are created by the operator and their
first admin by the clinic's system actor; the admin adds the other staff and the locations
(tenancy's services; the user accounts are made here). Everything else is done by the demo's
staff through the same services as the web and the API, each act at the moment it happened
(`clock.frozen_at`), so the safety gate, the booking rules and the audit trail apply to the demo
as they would in a clinic.

It is idempotent: the demo clinics are found by slug, and a second run only resets the demo
staff passwords (and gives a practitioner with an empty diary today two follow-ups). Refused in
production. Used by `dermis serve --demo` and `dermis manage seed_demo`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from dermis.web.clinic import clock, recall_sync
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.demo.journeys import ClinicJourneys
from dermis.web.clinic.demo.world import CLINICS, PER_CLINIC, StaffSpec
from dermis.web.clinic.models import Clinic, Role, StaffMember
from dermis.web.clinic.scheduling import due_dates
from dermis.web.clinic.tenancy import services as tenancy

Progress = Callable[[int, int], None]
OPENED_DAYS_AGO = 3 * 365  # before the oldest history the journeys write


class DemoError(Exception):
    """The demo cannot be built here (production, or a user name already taken)."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    clinic: str


@dataclass(frozen=True)
class DemoResult:
    logins: tuple[DemoLogin, ...]
    password: str
    patients_created: int


def build_demo(
    today: date | None = None, password: str | None = None, progress: Progress | None = None
) -> DemoResult:
    """Create (or refresh) the demo clinics; `progress(done, total)` is called per patient.

    The password is `password`, else DERMIS_DEMO_PASSWORD, else a new random one for this run.
    """
    if settings.PRODUCTION:
        raise DemoError("the demo data is refused when DERMIS_ENV=production")
    today = today or timezone.localdate()
    password = password or settings.DEMO_PASSWORD or secrets.token_urlsafe(12)
    hashed = make_password(password)  # once for every account: Argon2 is slow on purpose
    slugs = [spec.slug for spec in CLINICS]
    existing = set(Clinic.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    total = PER_CLINIC * (len(CLINICS) - len(existing))
    written: list[Path] = []
    logins: list[DemoLogin] = []
    done = 0
    try:
        with transaction.atomic():
            for spec in CLINICS:
                clinic = Clinic.objects.filter(slug=spec.slug).first()
                created = clinic is None
                if created:
                    clinic = tenancy.create_clinic(
                        Actor.operator("demo"),
                        slug=spec.slug,
                        name=spec.name,
                        town=spec.town,
                        postcode=spec.postcode,
                        phone=spec.phone,
                        email=f"hello@{spec.slug}.example",
                    )
                # The first admin is set up by the clinic's system actor; the admin adds the rest.
                by = Actor.system(clinic, channel="demo")
                staff = []
                for member in spec.staff:
                    staff.append(_staff(by, member, hashed))
                    if by.staff is None and staff[-1].role == Role.ADMIN:
                        by = Actor.of_staff(staff[-1], channel="demo")
                logins += [
                    DemoLogin(m.user.username, m.get_role_display(), clinic.name) for m in staff
                ]
                journeys = ClinicJourneys(clinic, staff, today, written)
                # The recall rows are computed once, as of today, after the clinic's history.
                with recall_sync.deferred(refresh=False):
                    if created:
                        opened = today - timedelta(days=OPENED_DAYS_AGO)
                        journeys.premises.furnish(spec, opened=opened)
                        for _ in journeys.patients():
                            done += 1
                            if progress:
                                progress(done, total)
                    journeys.premises.ensure_today(today)
                with clock.frozen_at(timezone.make_aware(datetime.combine(today, time(12)))):
                    due_dates.recompute([clinic])
    except BaseException:
        for path in written:  # the rows are rolled back; do not leave their files behind
            path.unlink(missing_ok=True)
        raise
    return DemoResult(tuple(logins), password, done)


def format_logins(result: DemoResult) -> str:
    """The demo accounts as a plain-text table (shown once: the password is not stored)."""
    rows = [("user name", "role", "clinic", "password")]
    rows += [(x.username, x.role, x.clinic, result.password) for x in result.logins]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _staff(by: Actor, spec: StaffSpec, hashed: str) -> StaffMember:
    clinic = by.clinic
    user, created = get_user_model().objects.get_or_create(
        username=spec.username, defaults={"email": f"{spec.username}@{clinic.slug}.example"}
    )
    current = StaffMember.objects.filter(user=user).first()
    if not created and (current is None or current.clinic_id != clinic.pk):
        # Never take over, or reset the password of, an account that is not the demo's.
        raise DemoError(f"the user name {spec.username!r} is already used outside the demo")
    user.password = hashed
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    profile = {
        "role": spec.role,
        "display_name": spec.name,
        "credentials": spec.credentials,
        "treatments": list(spec.treatments),
        "bio": spec.bio,
        "listed_in_directory": spec.role == Role.PRACTITIONER,
    }
    if current is None:
        return tenancy.add_staff(by, user=user, **profile)
    return tenancy.update_staff(by, current, **profile)
