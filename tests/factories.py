"""Records for tests, built through the same services as the web and the API (never the ORM), so a
test's "patient with a plan" is what a clinic would have made.

`actor(world.pat)` is pat acting through the web; every builder takes the staff member who acts.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from dermis.core import patient as cp
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.consultations import services as consultations
from dermis.web.clinic.consultations.consent_texts import consent_for
from dermis.web.clinic.models import Appointment, StaffMember, TreatmentPlan
from dermis.web.clinic.patients import services as patients
from dermis.web.clinic.scheduling import services as scheduling
from dermis.web.clinic.scheduling import setup

SCARS = {
    "skin_thickness": "normal",
    "concerns": [{"area": "cheeks", "concern": "acne_scars_rolling", "severity": 2}],
}
ALL_DAY = (time(7), time(21))


def actor(staff: StaffMember, channel: str = "web") -> Actor:
    return Actor.of_staff(staff, channel=channel)


def admin_of(staff: StaffMember) -> StaffMember:
    return StaffMember.objects.filter(clinic=staff.clinic, role="admin").first() or staff


def working_hours(
    staff: StaffMember, start: time = ALL_DAY[0], end: time = ALL_DAY[1], days=range(7)
) -> None:
    """`staff`'s weekly hours (every day, 07:00-21:00 by default), set by their clinic's admin."""
    location = staff.clinic.locations.order_by("pk").first()
    rows = [(day, start, end, location) for day in days]
    setup.set_weekly_hours(Actor.system(staff.clinic), staff, rows)


def patient(staff: StaffMember, given="Ada", family="Lovelace", born=date(1985, 12, 10), **more):
    return patients.register_patient(
        actor(staff), given_name=given, family_name=family, date_of_birth=born, **more
    )


def consultation(
    staff: StaffMember,
    who,
    intake: dict | cp.Intake | None = None,
    assessment: dict | None = None,
    phototype: str = "III",
    as_of: date | None = None,
):
    intake = intake if isinstance(intake, cp.Intake) else cp.Intake.model_validate(intake or {})
    assessment = cp.Assessment.model_validate(assessment or SCARS)
    return consultations.create_consultation(
        actor(staff), who, intake, assessment, phototype, as_of
    )


def accept(staff: StaffMember, consult, changes=()) -> TreatmentPlan:
    """Accept the proposal with the current consent text, signed with the patient's typed name."""
    modalities = [c["modality"] for c in consult.proposal["courses"]]
    consent = consultations.SignedConsent(
        shown_version=consent_for(modalities).version,
        signer_name=consult.patient.full_name,
        signature_png=b"",
    )
    plan, _ = consultations.accept_plan(actor(staff), consult, list(changes), consent)
    return plan


def accepted_plan(
    staff: StaffMember,
    who,
    severity: float = 2,
    concern: str = "acne_scars_rolling",
    area: str = "cheeks",
    intake=None,
    phototype: str = "III",
) -> TreatmentPlan:
    """A screened patient with the planner's proposal accepted as plan version 1
    (rolling acne scars of severity 2 on the cheeks: 4 microneedling sessions, 28-42 days)."""
    assessment = {
        "skin_thickness": "normal",
        "concerns": [{"area": area, "concern": concern, "severity": severity}],
    }
    return accept(staff, consultation(staff, who, intake, assessment, phototype))


def next_weekday_at(hour: int, days_ahead: int = 1, weekday: int | None = None) -> datetime:
    """A clinic-time moment `days_ahead` days from today (moved on to `weekday` if given)."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    while weekday is not None and day.weekday() != weekday:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def appointment(
    staff: StaffMember,
    who,
    start: datetime,
    minutes: int = 60,
    kind: str = Appointment.Kind.CONSULTATION,
    by: StaffMember | None = None,
    **more,
) -> Appointment:
    """An appointment with `staff` booked by `by` (default: `staff`) through the booking service."""
    return scheduling.book_appointment(
        actor(by or staff),
        who,
        practitioner=staff,
        start=start,
        end=start + timedelta(minutes=minutes),
        kind=kind,
        **more,
    )
