"""One demo clinic's patients, each taken as far along the journey as its stage.

Everything is done by the clinic's staff through the services, at the moment it happened
(`clock.frozen_at`): the front desk registers the patient and books the consultation; the
practitioner screens (the core answers), confirms what was recognised from the patient's own
words, and the patient signs the plan; the sessions, grades and photos follow (visits.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, time, timedelta
from pathlib import Path

from dermis.core import patient as cp
from dermis.core.planning import Plan, plan
from dermis.core.recognition import recognise
from dermis.core.screening import screen
from dermis.web.clinic import clock
from dermis.web.clinic.consultations import services as consultations
from dermis.web.clinic.core_inputs import core_patient, knowledge
from dermis.web.clinic.demo import images
from dermis.web.clinic.demo.premises import Premises, acting, aware, local_day
from dermis.web.clinic.demo.visits import Visits
from dermis.web.clinic.demo.world import (
    ACNE_SCARS,
    BOXCAR_ONLY,
    FAMILY,
    FEMALE,
    INTAKES,
    MALE,
    PHOTOTYPES,
    PROFILES,
    STAGES,
    STREETS,
    Profile,
)
from dermis.web.clinic.models import (
    Appointment,
    Clinic,
    Consultation,
    Patient,
    Role,
    StaffMember,
    TreatmentPlan,
)
from dermis.web.clinic.patients import services as patients

Kind, Status = Appointment.Kind, Appointment.Status
REGISTERED_AT = time(8, 15)  # on the phone before opening: the consultation is booked then
LEAD = timedelta(days=21)  # consultation to first session: time for every pre-care step


class ClinicJourneys:
    """Builds one clinic's patients; files it stores are added to `written` (for a rollback)."""

    def __init__(
        self, clinic: Clinic, staff: list[StaffMember], today: date, written: list[Path]
    ) -> None:
        self.clinic, self.today = clinic, today
        self.practitioners = [m for m in staff if m.role == Role.PRACTITIONER]
        self.desk = next(m for m in staff if m.role == Role.FRONT_DESK)
        admin = next(m for m in staff if m.role == Role.ADMIN)
        self.kb = knowledge()
        self.rng = random.Random(clinic.slug)  # same names and dates on every fresh build
        self.premises = Premises(clinic, admin, self.practitioners, self.rng)
        self.visits = Visits(self.premises, self.rng, today, written)

    # --- patients -----------------------------------------------------------------------------

    def patients(self) -> Iterator[int]:
        """Make every patient, stage after stage, practitioners taking turns; yield the count."""
        n = 0
        for stage, count in STAGES:
            for k in range(count):
                getattr(self, f"_{stage}")(k, self.practitioners[n % len(self.practitioners)])
                n += 1
                yield n

    def _person(self, female: bool | None = None) -> dict:
        """The demographics a new patient gives (seeded), not yet registered."""
        rng = self.rng
        female = rng.random() < 0.75 if female is None else female
        given, family = rng.choice(FEMALE if female else MALE), rng.choice(FAMILY)
        age = rng.randint(23, 62)
        return {
            "given_name": given,
            "family_name": family,
            "date_of_birth": self.today - timedelta(days=age * 365 + rng.randint(0, 360)),
            "sex": "f" if female else "m",
            "phone": f"07700 900{rng.randint(0, 999):03d}",  # Ofcom's range for drama
            "email": f"{given}.{family}{rng.randint(1, 99)}@example.com".lower(),
            "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}, {self.clinic.town}",
            "email_reminders": rng.random() < 0.9,
            "sms_reminders": rng.random() < 0.7,
        }

    def _register(self, person: dict, day: date) -> Patient:
        with clock.frozen_at(aware(day, REGISTERED_AT)):
            # Different people who may share a phone from the drama range: not duplicates.
            return patients.register_patient(
                acting(self.desk), confirm_not_duplicate=True, **person
            )

    def _assess(self, profile: Profile) -> tuple[str, cp.Assessment]:
        """Phototype and assessment as a practitioner would record them (seeded variation)."""
        rng = self.rng
        phototype = rng.choices(*PHOTOTYPES)[0]
        concerns = []
        for area, concern, severity in profile.items:
            scale = self.kb.scales[self.kb.concerns[concern].scale]
            value = min(scale.max, max(scale.min, severity + rng.choice((-0.5, 0, 0, 0.5))))
            concerns.append(cp.AreaConcern(area=area, concern=concern, severity=value))
        return phototype, cp.Assessment(
            glogau=rng.choice(("I", "II", "II", "III")),
            skin_thickness=rng.choice(("thin", "normal", "normal", "thick")),
            concerns=concerns,
            goals=[profile.goal],
            preferred_modality=profile.modality,
        )

    def _consult(
        self,
        patient: Patient,
        member: StaffMember,
        as_of: date,
        assessment: cp.Assessment,
        intake: cp.Intake,
        phototype: str,
    ) -> tuple[Consultation, Appointment]:
        """Booked when the patient registered; screened at the visit, and what was recognised
        from the patient's own words confirmed as the practitioner would after asking."""
        booked_at = aware(local_day(patient.created_at), REGISTERED_AT) + timedelta(minutes=5)
        visit = self.premises.book(
            self.desk, patient, member, as_of, Kind.CONSULTATION, minutes=45, booked_at=booked_at
        )
        with clock.frozen_at(visit.start + timedelta(minutes=20)):
            actor = acting(member)
            consultation = consultations.create_consultation(
                actor, patient, intake, assessment, phototype, as_of
            )
            facts = consultations.recognition_of(consultation).facts
            if facts:
                consultation = consultations.confirm_facts(actor, consultation, range(len(facts)))
        return consultation, visit

    def _accept(self, consultation: Consultation, visit: Appointment) -> TreatmentPlan:
        """The proposal accepted as it stands, the patient signing the consent in the box."""
        patient, member = consultation.patient, visit.practitioner
        text = consultations.consent_text_for(consultation.proposal)
        signed = consultations.SignedConsent(
            shown_version=text.version,
            signer_name=patient.full_name,
            signature_png=images.signature_png(self.rng),
        )
        with clock.frozen_at(visit.start + timedelta(minutes=40)):
            plan_row, _ = consultations.accept_plan(acting(member), consultation, [], signed)
        return plan_row

    def _treatable(self, k: int, member: StaffMember, profile: Profile | None = None):
        """A patient the core will plan for, with an assessment this practitioner treats."""
        if profile is None:
            offered = [p for p in PROFILES if p.modality in member.treatments]
            profile = offered[(k + self.rng.randint(0, 6)) % len(offered)]
        person = self._person()
        phototype, assessment = self._assess(profile)
        intake = cp.Intake(**self.rng.choice(INTAKES))
        return person, phototype, assessment, intake

    def _start_planned(self, person, phototype, assessment, intake, member, as_of):
        """Registered a few days before; consultation on `as_of`, plan accepted and consent
        signed at that visit."""
        patient = self._register(person, as_of - timedelta(days=self.rng.randint(2, 14)))
        consultation, visit = self._consult(patient, member, as_of, assessment, intake, phototype)
        plan_row = self._accept(consultation, visit)
        self.premises.mark(member, visit, Status.COMPLETED)
        return plan_row

    def _shape(self, person: dict, phototype: str, assessment, intake) -> tuple[int, int]:
        """(sessions, interval_days) the core will plan, to place a series that is under way.
        A question to the core only: the patient is not registered yet."""
        who = core_patient(Patient(**person, fitzpatrick=phototype), self.today)
        facts = tuple(replace(f, confirmed=True) for f in recognise(intake, self.kb).facts)
        screening = screen(who, intake, self.kb, self.today, facts)
        course = plan(who, assessment, screening, self.kb).courses[0]
        return course.sessions, course.interval_days

    # --- stages -------------------------------------------------------------------------------

    def _registered(self, k: int, member: StaffMember) -> None:
        registered = self.today - timedelta(days=self.rng.randint(0, 10))
        patient = self._register(self._person(), registered)
        day = self.today + timedelta(days=(0, 0, 2, 6)[k % 4])
        booked_at = aware(registered, REGISTERED_AT) + timedelta(minutes=5)
        self.premises.book(
            self.desk, patient, member, day, Kind.CONSULTATION, booked_at=booked_at,
            notes="New patient",
        )  # fmt: skip

    def _not_safe(self, k: int, member: StaffMember) -> None:
        as_of = self.today - timedelta(days=self.rng.randint(3, 40))
        if k % 2 == 0:  # impetigo over the only area to treat: nothing is safe
            person = self._person()
            profile = ACNE_SCARS
            intake = cp.Intake(active_infection_areas=["cheeks"], medical_history=["impetigo"])
        else:  # pregnant, boxcar scars: needling deferred, abrasion cannot reach them
            person = self._person(female=True)
            profile, intake = BOXCAR_ONLY, cp.Intake(pregnant=True)
        patient = self._register(person, as_of - timedelta(days=7))
        phototype, assessment = self._assess(profile)
        _, visit = self._consult(patient, member, as_of, assessment, intake, phototype)
        self.premises.mark(member, visit, Status.COMPLETED)

    def _deferred(self, k: int, member: StaffMember) -> None:
        as_of = self.today - timedelta(days=self.rng.randint(5, 25))
        patient = self._register(self._person(), as_of - timedelta(days=5))
        intake = cp.Intake(
            isotretinoin_last_dose=as_of - timedelta(days=self.rng.randint(50, 100)),
            medications=["isotretinoin (stopped)"],
        )
        phototype, assessment = self._assess(ACNE_SCARS)
        consultation, visit = self._consult(patient, member, as_of, assessment, intake, phototype)
        self.premises.mark(member, visit, Status.COMPLETED)
        # Back on the first day the core says needling is safe again, booked as they leave.
        courses = Plan.from_dict(consultation.proposal).courses
        day = courses[0].earliest_start if courses else self.today
        self.premises.book(
            self.desk, patient, member, day, Kind.CONSULTATION, booked_at=visit.end,
            notes="Review after isotretinoin",
        )  # fmt: skip

    def _accepted(self, k: int, member: StaffMember) -> None:
        person, phototype, assessment, intake = self._treatable(k, member)
        start = self.today + timedelta(days=(0, 3, 8, 14)[k % 4])
        # Some booked at shorter notice than the pre-care asks: the practitioner records it done.
        as_of = start - timedelta(days=self.rng.randint(10, 24))
        plan_row = self._start_planned(person, phototype, assessment, intake, member, as_of)
        self.visits.series(plan_row, start, done=0)

    def _mid_series(self, k: int, member: StaffMember) -> None:
        revise = k == 3
        person, phototype, assessment, intake = self._treatable(
            k, member, ACNE_SCARS if revise else None
        )
        sessions, interval = self._shape(person, phototype, assessment, intake)
        done = 1 + k % max(1, sessions - 1)
        # k == 0: the last session was two days ago, so an aftercare is in progress.
        next_in = min((interval - 2, 0, 5, interval - 6, 11, 1)[k % 6], interval - 1)
        start = self.today + timedelta(days=next_in - done * interval)
        plan_row = self._start_planned(person, phototype, assessment, intake, member, start - LEAD)
        charted = self.visits.series(plan_row, start, done, revise=revise)
        if k % 2 == 0:
            self.visits.photo(charted[0], "before", 0.0)

    def _completed(self, k: int, member: StaffMember, ended=(45, 150), grades=(30, 90)) -> None:
        person, phototype, assessment, intake = self._treatable(k, member)
        sessions, interval = self._shape(person, phototype, assessment, intake)
        last = self.today - timedelta(days=self.rng.randint(*ended))
        start = last - timedelta(days=(sessions - 1) * interval)
        plan_row = self._start_planned(person, phototype, assessment, intake, member, start - LEAD)
        charted = self.visits.series(plan_row, start, done=sessions)
        self.visits.complete(plan_row, charted[-1])
        self.visits.photo(charted[0], "before", 0.0)
        self.visits.follow_ups(plan_row, charted[-1], grades)

    def _maintenance(self, k: int, member: StaffMember) -> None:
        """Series ended 10-14 months ago; nothing booked: due for a maintenance session."""
        self._completed(k, member, ended=(310, 420), grades=(30, 90, 180))
