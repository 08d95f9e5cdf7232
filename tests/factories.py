"""Records for tests, built through the same services as the web and the API (never the ORM), so a
test's "patient with a plan" is what a clinic would have made.

`actor(world.pat)` is pat acting through the web; every builder takes the staff member who acts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from dermis.core import patient as cp
from dermis.web.clinic import clock
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.consultations import services as consultations
from dermis.web.clinic.consultations.consent_texts import consent_for
from dermis.web.clinic.models import Appointment, Location, StaffMember, TreatmentPlan
from dermis.web.clinic.patients import services as patients
from dermis.web.clinic.scheduling import services as scheduling
from dermis.web.clinic.scheduling import setup
from dermis.web.clinic.tenancy import services as tenancy

SCARS = {
    "skin_thickness": "normal",
    "concerns": [{"area": "cheeks", "concern": "acne_scars_rolling", "severity": 2}],
}
ALL_DAY = (time(7), time(21))


def actor(staff: StaffMember, channel: str = "web") -> Actor:
    return Actor.of_staff(staff, channel=channel)


def admin_of(staff: StaffMember) -> StaffMember:
    return StaffMember.objects.filter(clinic=staff.clinic, role="admin").first() or staff


def location(staff: StaffMember, name: str, **fields) -> Location:
    """A new location of `staff`'s clinic, added by the clinic's admin."""
    fields = {"address": "1 High Street", "town": "Leeds", "postcode": "LS1 1AA", **fields}
    return tenancy.add_location(actor(admin_of(staff)), name=name, **fields)


def staff_member(
    staff: StaffMember, username: str, role: str, display_name: str, *, password=None, **fields
) -> StaffMember:
    """A new account made a member of `staff`'s clinic by the clinic's admin."""
    user = get_user_model().objects.create_user(username, password=password)
    return tenancy.add_staff(
        actor(admin_of(staff)), user=user, role=role, display_name=display_name, **fields
    )


def working_hours(
    staff: StaffMember, start: time = ALL_DAY[0], end: time = ALL_DAY[1], days=range(7)
) -> None:
    """`staff`'s weekly hours (every day, 07:00-21:00 by default), set by their clinic's admin."""
    location = staff.clinic.locations.order_by("pk").first()
    rows = [(day, start, end, location) for day in days]
    setup.set_weekly_hours(Actor.system(staff.clinic), staff, rows)


def patient(staff: StaffMember, given="Ada", family="Lovelace", born=date(1985, 12, 10), **more):
    more.setdefault("confirm_not_duplicate", True)  # tests of the warning call the service
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


def earlier_today(minutes: int) -> datetime:
    """A clinic-time moment `minutes` ago, on the minute, but never before today's midnight: a
    session charted "a few minutes ago" stays on the day its plan starts, even just after
    midnight."""
    now = timezone.localtime(clock.now())
    midnight = timezone.make_aware(datetime.combine(now.date(), time()))
    return max(now - timedelta(minutes=minutes), midnight).replace(second=0, microsecond=0)


def soon_within_hours(after: timedelta = timedelta(hours=1)) -> datetime:
    """The first whole hour at least `after` from now at which a one-hour appointment fits the
    default working hours (07:00-21:00): at most `after` + 12 hours away, whatever the time of
    day the test runs."""
    at = timezone.localtime(clock.now() + after)
    if at.minute or at.second or at.microsecond:
        at = at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if at.hour < 7:
        at = at.replace(hour=8)
    elif at.hour > 20:
        at = (at + timedelta(days=1)).replace(hour=8)
    return timezone.make_aware(datetime.combine(at.date(), at.time()))


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


def chart(
    modality: str = "microneedling",
    device: str = "automated_pen",
    areas: dict | None = None,
    performed_at: datetime | None = None,
    **fields,
):
    """A chart of `areas` ({area: depth in mm, or tip for microdermabrasion}), 2 passes each."""
    from dermis.core.charting_checks import ChartedArea
    from dermis.web.clinic.charting.selectors import Chart

    areas = {"cheeks": 1.0} if areas is None else areas
    charted = tuple(
        ChartedArea(a, v, None, 2) if isinstance(v, int | float) else ChartedArea(a, None, v, 2)
        for a, v in areas.items()
    )
    return Chart(
        modality=modality,
        device=device,
        performed_at=performed_at or timezone.now(),
        areas=charted,
        **{"cartridge": "36-pin nano", **fields},
    )


def session(
    staff: StaffMember,
    who,
    *,
    plan: TreatmentPlan | None = None,
    appointment: Appointment | None = None,
    precare_done: bool = True,
    **chart_fields,
):
    """A draft session charted by `staff` through the charting service (pre-care recorded)."""
    from dermis.web.clinic.charting import services as charting

    made, _ = charting.create_session(
        actor(staff),
        who,
        chart(**chart_fields),
        plan=plan,
        appointment=appointment,
        precare_done=precare_done,
    )
    return made


def finalised(staff: StaffMember, draft, lot_number: str = "LOT-42"):
    """`draft` with its lot number, signed by `staff` through the charting service."""
    from dermis.web.clinic.charting import services as charting

    if not draft.lot_number:
        made, _ = charting.update_session(
            actor(staff),
            draft,
            replace(charting.stored_chart(draft), lot_number=lot_number),
        )
        draft = made
    return charting.finalise_session(actor(staff), draft)


def grade(
    staff: StaffMember,
    who,
    value: float = 2,
    *,
    area: str = "cheeks",
    concern: str = "acne_scars_rolling",
    **more,
):
    """A follow-up grade recorded by `staff` through the grades service."""
    from dermis.web.clinic.outcomes import services as outcomes

    return outcomes.record_grade(actor(staff), who, area=area, concern=concern, grade=value, **more)


def deferred_by_isotretinoin(staff: StaffMember, who, months_ago: int = 2):
    """`who` screened with a last isotretinoin dose `months_ago` months ago: microneedling is
    deferred until six months after it (an absolute, dated finding)."""
    last_dose = timezone.localdate() - timedelta(days=30 * months_ago)
    return consultation(staff, who, {"isotretinoin_last_dose": last_dose.isoformat()})


def finalise_form(session, **fields) -> dict:
    """What the session page's finalise form posts: the confirmation and the version of the
    draft as the page shows it now."""
    from dermis.web.clinic.charting.records import draft_version
    from dermis.web.clinic.models import TreatmentSession

    current = TreatmentSession.objects.get(pk=session.pk)
    return {"confirm": "on", "version": draft_version(current), **fields}
