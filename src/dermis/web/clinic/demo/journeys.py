"""One demo clinic's patients, each taken as far along the journey as its stage.

Consultations, plans and sessions come from the core (screen, plan, aftercare) and are stored in
the formats the views read; bookings go through the clinic's diary (premises.py).
"""

from __future__ import annotations

import io
import random
import uuid
from collections.abc import Iterator
from datetime import date, time, timedelta
from pathlib import Path

from dermis.core import patient as cp
from dermis.core.adjust import Change, adjust
from dermis.core.aftercare import aftercare
from dermis.core.errors import InputError
from dermis.core.planning import Plan, plan
from dermis.core.screening import screen
from dermis.web.clinic.charting import photos as photo_store
from dermis.web.clinic.charting.services import content_sha256
from dermis.web.clinic.consultations.consent_texts import consent_for
from dermis.web.clinic.core_inputs import core_assessment, core_patient, core_session, knowledge
from dermis.web.clinic.demo import images
from dermis.web.clinic.demo.premises import Premises, aware
from dermis.web.clinic.demo.world import (
    ACNE_SCARS,
    BOXCAR_ONLY,
    FAMILY,
    FEMALE,
    INTAKES,
    MALE,
    MN,
    PHOTOTYPES,
    PROFILES,
    STAGES,
    STREETS,
    Profile,
)
from dermis.web.clinic.models import (
    Appointment,
    Clinic,
    ConsentRecord,
    Consultation,
    FollowUpGrade,
    Patient,
    Photo,
    SessionAddendum,
    SessionArea,
    StaffMember,
    TreatmentPlan,
    TreatmentSession,
)

Kind, Stage = Appointment.Kind, Photo.Stage


class ClinicJourneys:
    """Builds one clinic's patients; files it stores are added to `written` (for a rollback)."""

    def __init__(
        self,
        clinic: Clinic,
        practitioners: list[StaffMember],
        today: date,
        written: list[Path],
    ) -> None:
        self.clinic, self.practitioners, self.today = clinic, practitioners, today
        self.written = written
        self.kb = knowledge()
        self.rng = random.Random(clinic.slug)  # same names and dates on every fresh build
        self.premises = Premises(clinic, practitioners, self.rng)
        self._book = self.premises.book

    # --- patients -----------------------------------------------------------------------------

    def patients(self) -> Iterator[int]:
        """Make every patient, stage after stage, practitioners taking turns; yield the count."""
        n = 0
        for stage, count in STAGES:
            for k in range(count):
                getattr(self, f"_{stage}")(k, self.practitioners[n % len(self.practitioners)])
                n += 1
                yield n

    def _patient(self, registered: date, female: bool | None = None) -> Patient:
        rng = self.rng
        female = rng.random() < 0.75 if female is None else female
        given, family = rng.choice(FEMALE if female else MALE), rng.choice(FAMILY)
        age = rng.randint(23, 62)
        return Patient.objects.create(
            clinic=self.clinic,
            given_name=given,
            family_name=family,
            date_of_birth=self.today - timedelta(days=age * 365 + rng.randint(0, 360)),
            sex="f" if female else "m",
            phone=f"07700 900{rng.randint(0, 999):03d}",  # Ofcom's range for drama
            email=f"{given}.{family}{rng.randint(1, 99)}@example.com".lower(),
            address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}, {self.clinic.town}",
            email_reminders=rng.random() < 0.9,
            sms_reminders=rng.random() < 0.7,
            created_at=aware(registered, time(9, 15)),
        )

    def _assess(self, patient: Patient, profile: Profile) -> cp.Assessment:
        """Phototype and assessment as a practitioner would record them (seeded variation)."""
        rng = self.rng
        patient.fitzpatrick = rng.choices(*PHOTOTYPES)[0]
        patient.save(update_fields=["fitzpatrick"])
        concerns = []
        for area, concern, severity in profile.items:
            scale = self.kb.scales[self.kb.concerns[concern].scale]
            value = min(scale.max, max(scale.min, severity + rng.choice((-0.5, 0, 0, 0.5))))
            concerns.append(cp.AreaConcern(area=area, concern=concern, severity=value))
        return cp.Assessment(
            glogau=rng.choice(("I", "II", "II", "III")),
            skin_thickness=rng.choice(("thin", "normal", "normal", "thick")),
            concerns=concerns,
            goals=[profile.goal],
            preferred_modality=profile.modality,
        )

    def _ask_core(self, patient: Patient, assessment, intake, as_of: date) -> Plan:
        person = core_patient(patient, as_of)
        return plan(person, assessment, screen(person, intake, self.kb, as_of), self.kb)

    def _consult(self, patient, member, as_of, assessment, intake, status="open"):
        """The consultation exactly as the core answers it on `as_of`; returns it and the plan."""
        proposal = self._ask_core(patient, assessment, intake, as_of)
        self._book(patient, member, as_of, Kind.CONSULTATION, minutes=45, done=True)
        consultation = Consultation.objects.create(
            patient=patient,
            practitioner=member,
            created_at=aware(as_of, time(10)),
            as_of=as_of,
            intake=intake.model_dump(mode="json"),
            assessment=assessment.model_dump(mode="json"),
            screening=proposal.screening.to_dict(),
            proposal=proposal.to_dict(),
            knowledge_version=self.kb.version,
            status=status,
        )
        return consultation, proposal

    def _treatable(self, k: int, member: StaffMember, profile: Profile | None = None):
        """A patient the core will plan for, with an assessment this practitioner treats."""
        if profile is None:
            offered = [p for p in PROFILES if p.modality in member.treatments]
            profile = offered[(k + self.rng.randint(0, 6)) % len(offered)]
        patient = self._patient(self.today)
        intake = cp.Intake(**self.rng.choice(INTAKES))
        return patient, self._assess(patient, profile), intake

    def _start_planned(self, patient, member, assessment, intake, as_of) -> TreatmentPlan:
        """Consultation on `as_of`, plan accepted and consent signed the same day."""
        patient.created_at = aware(as_of - timedelta(days=self.rng.randint(2, 14)), time(9, 15))
        patient.save(update_fields=["created_at"])
        consultation, proposal = self._consult(patient, member, as_of, assessment, intake)
        signed = aware(as_of, time(10, 40))
        # The clinic's current consent text for the plan's modalities, as the accept page shows.
        text = consent_for(course.modality for course in proposal.courses)
        consent = ConsentRecord.objects.create(
            patient=patient,
            consultation=consultation,
            text_version=text.version,
            text=text.text,
            text_sha256=text.sha256,
            signature_png=images.signature_png(self.rng),
            signer_name=patient.full_name,
            signed_at=signed,
            witnessed_by=member.user,
        )
        consultation.status = Consultation.Status.ACCEPTED
        consultation.save(update_fields=["status"])
        return TreatmentPlan.objects.create(
            patient=patient,
            consultation=consultation,
            consent=consent,
            version=1,
            content=proposal.to_dict(),
            created_at=signed,
            created_by=member.user,
        )

    def _shape(self, patient, assessment, intake) -> tuple[int, int]:
        """(sessions, interval_days) of the course, to place a series that is already under way."""
        course = self._ask_core(patient, assessment, intake, self.today).courses[0]
        return course.sessions, course.interval_days

    # --- stages -------------------------------------------------------------------------------

    def _registered(self, k: int, member: StaffMember) -> None:
        patient = self._patient(self.today - timedelta(days=self.rng.randint(0, 10)))
        day = self.today + timedelta(days=(0, 0, 2, 6)[k % 4])
        self._book(patient, member, day, Kind.CONSULTATION, notes="New patient")

    def _not_safe(self, k: int, member: StaffMember) -> None:
        as_of = self.today - timedelta(days=self.rng.randint(3, 40))
        if k % 2 == 0:  # impetigo over the only area to treat: nothing is safe
            patient = self._patient(as_of - timedelta(days=7))
            profile = ACNE_SCARS
            intake = cp.Intake(active_infection_areas=["cheeks"], medical_history=["impetigo"])
        else:  # pregnant, boxcar scars: needling deferred, abrasion cannot reach them
            patient = self._patient(as_of - timedelta(days=7), female=True)
            profile, intake = BOXCAR_ONLY, cp.Intake(pregnant=True)
        assessment = self._assess(patient, profile)
        self._consult(patient, member, as_of, assessment, intake, Consultation.Status.CLOSED)

    def _deferred(self, k: int, member: StaffMember) -> None:
        as_of = self.today - timedelta(days=self.rng.randint(5, 25))
        patient = self._patient(as_of - timedelta(days=5))
        intake = cp.Intake(
            isotretinoin_last_dose=as_of - timedelta(days=self.rng.randint(50, 100)),
            medications=["isotretinoin (stopped)"],
        )
        assessment = self._assess(patient, ACNE_SCARS)
        _, proposal = self._consult(patient, member, as_of, assessment, intake)
        # Back on the first day the core says needling is safe again.
        day = proposal.courses[0].earliest_start if proposal.courses else self.today
        self._book(patient, member, day, Kind.CONSULTATION, notes="Review after isotretinoin")

    def _accepted(self, k: int, member: StaffMember) -> None:
        patient, assessment, intake = self._treatable(k, member)
        as_of = self.today - timedelta(days=self.rng.randint(4, 20))
        plan_row = self._start_planned(patient, member, assessment, intake, as_of)
        self._series(plan_row, self.today + timedelta(days=(0, 3, 8, 14)[k % 4]), done=0)

    def _mid_series(self, k: int, member: StaffMember) -> None:
        revise = k == 3
        patient, assessment, intake = self._treatable(k, member, ACNE_SCARS if revise else None)
        sessions, interval = self._shape(patient, assessment, intake)
        done = 1 + k % max(1, sessions - 1)
        # k == 0: the last session was two days ago, so an aftercare is in progress.
        next_in = min((interval - 2, 0, 5, interval - 6, 11, 1)[k % 6], interval - 1)
        start = self.today + timedelta(days=next_in - done * interval)
        plan_row = self._start_planned(
            patient, member, assessment, intake, start - timedelta(days=10)
        )
        charted = self._series(plan_row, start, done, revise=revise)
        if k % 2 == 0:
            self._photo(charted[0], Stage.BEFORE, charted[0].performed_at.date(), 0.0)

    def _completed(self, k: int, member: StaffMember, ended=(45, 150), grades=(30, 90)) -> None:
        patient, assessment, intake = self._treatable(k, member)
        sessions, interval = self._shape(patient, assessment, intake)
        last = self.today - timedelta(days=self.rng.randint(*ended))
        start = last - timedelta(days=(sessions - 1) * interval)
        plan_row = self._start_planned(
            patient, member, assessment, intake, start - timedelta(days=10)
        )
        charted = self._series(plan_row, start, done=sessions)
        plan_row.status = TreatmentPlan.Status.COMPLETED
        plan_row.save(update_fields=["status"])
        self._photo(charted[0], Stage.BEFORE, charted[0].performed_at.date(), 0.0)
        last = charted[-1].performed_at.date()
        response = self.rng.uniform(0.25, 0.6)  # this patient's share of the possible change
        graded = None
        for i, after in enumerate(grades):
            day = last + timedelta(days=after)
            if day >= self.today:
                self._book(patient, member, day, Kind.FOLLOW_UP, minutes=20, plan=plan_row)
                break
            # Half the change at a month, all of it by three, fading a little by six.
            self._follow_up(plan_row, member, day, response * (0.55, 1.0, 0.8)[min(i, 2)])
            graded = day
        if graded:
            self._photo(charted[-1], Stage.FOLLOW_UP, graded, 0.5, at_session=False)

    def _maintenance(self, k: int, member: StaffMember) -> None:
        """Series ended 10-14 months ago; nothing booked: due for a maintenance session."""
        self._completed(k, member, ended=(310, 420), grades=(30, 90, 180))

    # --- sessions, grades, photos -------------------------------------------------------------

    def _series(self, plan_row, start: date, done: int, revise=False) -> list[TreatmentSession]:
        """Book the course's sessions; chart the first `done` as finalised sessions."""
        course = plan_row.content["courses"][0]
        minutes = next(d for d in course["decisions"] if d["what"] == "session_minutes")
        member, key, charted, day = plan_row.consultation.practitioner, uuid.uuid4(), [], start
        for i in range(course["sessions"]):
            appt = self._book(
                plan_row.patient,
                member,
                day,
                Kind.TREATMENT,
                minutes=minutes["value"]["max"],
                done=i < done,
                modality=course["modality"],
                plan=plan_row,
                series_key=key,
                series_index=i + 1,
            )
            if i < done:
                charted.append(self._chart(plan_row, i, appt))
            if revise and i == done - 1 < course["sessions"] - 1:
                # Revised after the latest session, so only the sessions still to come change.
                plan_row = self._revise(plan_row, charted[-1])
            day += timedelta(days=plan_row.content["courses"][0]["interval_days"])
        return charted

    def _chart(self, plan_row: TreatmentPlan, index: int, appt: Appointment) -> TreatmentSession:
        """A session charted at the plan's settings (one per area), then signed as the app does."""
        course = plan_row.content["courses"][0]
        intake = cp.Intake.model_validate(plan_row.consultation.intake)
        treatments = [t for t in course["treatments"] if t["sessions"] > index]
        needling = course["modality"] == MN
        depth: dict[str, float] = {}
        tips: dict[str, str] = {}
        for t in treatments:  # two concerns on one area: the deeper plan setting
            depth[t["area"]] = max(depth.get(t["area"], 0.0), t["depth_mm"] or 0.0)
            tips.setdefault(t["area"], t["tip"] or "")
        deepest = max(depth.values())
        bleeding = needling and deepest >= 1.0 and not intake.anticoagulants
        serums = [self.kb.serums[s["value"]].name for s in course["serums"]]
        lot = "NC" if needling else "DT"  # needle cartridge or diamond tip
        session = TreatmentSession.objects.create(
            patient=plan_row.patient,
            plan=plan_row,
            appointment=appt,
            practitioner=appt.practitioner,
            performed_at=appt.start,
            duration_minutes=int((appt.end - appt.start).total_seconds() // 60),
            modality=course["modality"],
            device=treatments[0]["device"],
            cartridge="36-pin nano cartridge" if needling else f"{next(iter(tips.values()))} tip",
            lot_number=f"{lot}-{appt.start:%y%m}-{self.rng.randint(1000, 9999)}",
            serum=serums[0] if serums else "",
            numbing="topical lidocaine 4 %, 30 minutes" if deepest > 0.5 else "",
            endpoint="pinpoint_bleeding" if bleeding else "erythema",
            immediate_reactions="even erythema, settling to mild pinkness before leaving",
            notes=f"Session {index + 1} of {course['sessions']}; tolerated well.",
        )
        SessionArea.objects.bulk_create(
            SessionArea(
                session=session,
                area=area,
                depth_mm=depth[area] if needling else None,
                tip="" if needling else tips[area],
                passes=3 if needling else 2,
            )
            for area in sorted(depth)
        )
        # Signed at the end of the visit, with the hash the app checks the record against.
        session.status = TreatmentSession.Status.FINAL
        session.finalised_at, session.finalised_by = appt.end, appt.practitioner.user
        session.content_sha256 = content_sha256(session)
        session.save(update_fields=["status", "finalised_at", "finalised_by", "content_sha256"])
        if appt.start.date() >= self.today - timedelta(days=14):
            # Aftercare in progress: the core must be able to build it from what is stored.
            person = core_patient(plan_row.patient, appt.start.date())
            aftercare(core_session(session), person, intake, self.kb)
        return session

    def _revise(self, plan_row: TreatmentPlan, after: TreatmentSession) -> TreatmentPlan:
        """Version 2 after a long-lasting redness: the first change the core's bounds allow."""
        number = plan_row.sessions.count()
        consultation = plan_row.consultation
        person = core_patient(plan_row.patient, consultation.as_of)
        course = plan_row.content["courses"][0]
        reason = f"erythema lasted four days after session {number}"
        # One needle step shallower on the deepest treatment, else a week more between sessions.
        candidates = [Change(0, "interval_days", course["interval_days"] + 7, reason)]
        if course["modality"] == MN:
            depths = [t["depth_mm"] for t in course["treatments"]]
            i = depths.index(max(depths))
            step = self.kb.devices[course["treatments"][i]["device"]].depth_step_mm or 0.25
            candidates.insert(0, Change(0, "depth_mm", round(depths[i] - step, 4), reason, i))
        for change in candidates:
            try:
                adjusted = adjust(
                    plan_row.content,
                    [change],
                    person,
                    core_assessment(consultation),
                    consultation.screening,
                    self.kb,
                    history=plan_row.adjustments,
                )
                break
            except InputError:  # outside the knowledge base's limits for this patient
                continue
        else:
            return plan_row
        when = after.performed_at + timedelta(days=4)
        SessionAddendum.objects.create(
            session=after, author=after.practitioner.user, created_at=when, text=f"Day 4: {reason}."
        )
        plan_row.status = TreatmentPlan.Status.SUPERSEDED
        plan_row.save(update_fields=["status"])
        return TreatmentPlan.objects.create(
            patient=plan_row.patient,
            consultation=consultation,
            consent=plan_row.consent,
            version=2,
            previous=plan_row,
            content=adjusted.content,
            adjustments=adjusted.adjustments,
            note=f"Revised: {reason}.",
            created_at=when,
            created_by=after.practitioner.user,
        )

    def _follow_up(self, plan_row: TreatmentPlan, member, day: date, share: float) -> None:
        """Grades on each concern's own scale: the baseline moved `share` of the way to best."""
        self._book(
            plan_row.patient, member, day, Kind.FOLLOW_UP, minutes=20, done=True, plan=plan_row
        )
        for t in plan_row.content["courses"][0]["treatments"]:
            scale = self.kb.scales[self.kb.concerns[t["concern"]].scale]
            best = scale.min if scale.higher_is_worse else scale.max
            grade = t["severity"] + share * (best - t["severity"])
            FollowUpGrade.objects.create(
                patient=plan_row.patient,
                plan=plan_row,
                area=t["area"],
                concern=t["concern"],
                grade=round(grade * 2) / 2,  # graded to the half point
                baseline=t["severity"],
                graded_on=day,
                graded_by=member.user,
                notes="Graded against the baseline photographs.",
            )

    def _photo(
        self,
        charted: TreatmentSession,
        stage: str,
        day: date,
        smoothing: float,
        at_session: bool = True,
    ) -> None:
        """A synthetic photo of the session's first area, stored as an upload would be."""
        area = charted.areas.order_by("area").first().area
        data, _, _ = images.skin_jpeg(
            self.kb.areas[area].name, charted.patient.fitzpatrick, stage, smoothing, self.rng
        )
        # Stored exactly as an upload is (checked, re-encoded, a random name).
        stored = photo_store.store_upload(io.BytesIO(data))
        self.written.append(photo_store.path_of(stored.storage_name))
        Photo.objects.create(
            patient=charted.patient,
            session=charted if at_session else None,
            area=area,
            stage=stage,
            taken_on=day,
            storage_name=stored.storage_name,
            content_type=stored.content_type,
            width=stored.width,
            height=stored.height,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            uploaded_by=charted.practitioner.user,
            uploaded_at=aware(day, time(12)),
        )
