"""A demo patient's course after the plan is signed: the series booked, each session charted and
signed at the chair, a plan revised after a reaction, follow-ups graded, photos uploaded.

All of it goes through the services and the safety gate, at the moment it happened: pre-care is
recorded where the series was booked at short notice, and the "anything changed?" check is
recorded at the chair once the screening is older than the clinic allows.
"""

from __future__ import annotations

import io
import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from dermis.core.adjust import Change
from dermis.core.aftercare import aftercare, precare_rules
from dermis.core.planning import Course, Plan
from dermis.web.clinic import clock
from dermis.web.clinic.charting import photos as photo_store
from dermis.web.clinic.charting import services as charting
from dermis.web.clinic.charting.selectors import planned_chart
from dermis.web.clinic.consultations import services as consultations
from dermis.web.clinic.core_inputs import core_intake, core_patient, core_session, knowledge
from dermis.web.clinic.demo import images
from dermis.web.clinic.demo.premises import Premises, acting, aware, local_day
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import Appointment, TreatmentPlan, TreatmentSession
from dermis.web.clinic.outcomes import services as outcomes
from dermis.web.clinic.scheduling import services as scheduling

Kind, Status = Appointment.Kind, Appointment.Status
MN = "microneedling"
NOTHING_CHANGED = {
    "new_medicines": False,
    "pregnancy": False,
    "cold_sore": False,
    "sunburn": False,
    "recent_procedure": False,
}


def course_of(plan_row: TreatmentPlan) -> Course:
    return Plan.from_dict(plan_row.content).courses[0]


class Visits:
    def __init__(
        self, premises: Premises, rng: random.Random, today: date, written: list[Path]
    ) -> None:
        self.premises, self.rng, self.today, self.written = premises, rng, today, written
        self.kb = knowledge()

    # --- the series ---------------------------------------------------------------------------

    def series(
        self, plan_row: TreatmentPlan, start: date, done: int, revise: bool = False
    ) -> list[TreatmentSession]:
        """Book the course's sessions as the plan is signed; chart the first `done` of them."""
        course = course_of(plan_row)
        days = [start + timedelta(days=i * course.interval_days) for i in range(course.sessions)]
        booked = self._book(plan_row, days, plan_row.created_at + timedelta(minutes=2))
        charted: list[TreatmentSession] = []
        for i, appointment in enumerate(booked[:done]):
            charted.append(self._chart(plan_row, i, appointment))
        if revise and 0 < done < course.sessions:
            self._revise(plan_row, charted[-1], booked[done:])
        return charted

    def _book(self, plan_row: TreatmentPlan, days: list[date], at: datetime) -> list[Appointment]:
        """The sessions on `days`, booked at `at`: pre-care recorded by the practitioner when the
        first session is too soon for the pre-care to be followed from the day it is booked."""
        member = plan_row.consultation.practitioner
        booked_on = local_day(at)
        rules = precare_rules(
            course_of(plan_row).modality,
            self.kb,
            core_patient(plan_row.patient, days[0]),
            core_intake(plan_row.consultation),
        )
        lead = max((rule.days_before for _, rule in rules if not rule.optional), default=0)
        return self.premises.book_series(
            member,
            plan_row,
            days,
            booked_at=at,
            precare_done=(days[0] - booked_on).days < lead,
        )

    def _chart(
        self, plan_row: TreatmentPlan, index: int, appointment: Appointment
    ) -> TreatmentSession:
        """A session charted at the plan's settings for each area still being treated, then
        signed at the end of the visit and the appointment marked done."""
        member, patient = appointment.practitioner, plan_row.patient
        actor = acting(member)
        course = course_of(plan_row)
        needling = course.modality == MN
        treating = {t.area for t in course.treatments if t.sessions > index}
        planned = planned_chart(plan_row, course.modality, appointment.start)
        areas = tuple(
            replace(a, passes=3 if needling else 2) for a in planned.areas if a.area in treating
        )
        deepest = max((a.depth_mm or 0.0) for a in areas)
        intake = core_intake(plan_row.consultation)
        bleeding = needling and deepest >= 1.0 and not intake.anticoagulants
        serums = [self.kb.serums[s.value].name for s in course.serums]
        lot = "NC" if needling else "DT"  # needle cartridge or diamond tip
        chart = replace(
            planned,
            areas=areas,
            duration_minutes=int((appointment.end - appointment.start).total_seconds() // 60),
            cartridge="36-pin nano cartridge" if needling else f"{areas[0].tip} tip",
            lot_number=f"{lot}-{appointment.start:%y%m}-{self.rng.randint(1000, 9999)}",
            serum=serums[0] if serums else "",
            numbing="topical lidocaine 4 %, 30 minutes" if deepest > 0.5 else "",
            endpoint="pinpoint_bleeding" if bleeding else "erythema",
            immediate_reactions="even erythema, settling to mild pinkness before leaving",
            notes=f"Session {index + 1} of {course.sessions}; tolerated well.",
        )
        day = local_day(appointment.start)
        screened = plan_row.consultation.as_of
        with clock.frozen_at(appointment.start):
            if (day - screened).days > patient.clinic.screening_max_age_days:
                charting.record_recheck(
                    actor,
                    patient,
                    changed=False,
                    answers=NOTHING_CHANGED,
                    note="Nothing changed since the screening.",
                )
            session, _ = charting.create_session(
                actor, patient, chart, appointment=appointment, plan=plan_row
            )
        with clock.frozen_at(appointment.end):
            session = charting.finalise_session(actor, session)
            scheduling.set_status(actor, appointment, Status.COMPLETED)
        if day >= self.today - timedelta(days=14):
            # Aftercare in progress: the core must be able to build it from what is stored.
            aftercare(core_session(session), core_patient(patient, day), intake, self.kb)
        return session

    def _revise(
        self, plan_row: TreatmentPlan, after: TreatmentSession, ahead: list[Appointment]
    ) -> TreatmentPlan:
        """Four days after `after`, a long-lasting redness: an addendum, version 2 with the first
        change the core's bounds allow, and the rest of the series booked again on it."""
        member = after.practitioner
        actor = acting(member)
        course = course_of(plan_row)
        number = plan_row.sessions.count()
        reason = f"erythema lasted four days after session {number}"
        # One needle step shallower on the deepest treatment, else a week more between sessions.
        candidates = [Change(0, "interval_days", course.interval_days + 7, reason)]
        if course.modality == MN:
            depths = [t.depth_mm for t in course.treatments]
            i = depths.index(max(depths))
            step = self.kb.devices[course.treatments[i].device].depth_step_mm or 0.25
            candidates.insert(0, Change(0, "depth_mm", round(depths[i] - step, 4), reason, i))
        when = after.performed_at + timedelta(days=4)
        with clock.frozen_at(when):
            charting.add_addendum(actor, after, f"Day 4: {reason}.")
            for change in candidates:
                try:
                    revised, _ = consultations.revise_plan(
                        actor, plan_row, [change], f"Revised: {reason}."
                    )
                    break
                except ServiceError:  # outside the knowledge base's limits for this patient
                    continue
            else:
                return plan_row
            for appointment in ahead:
                scheduling.cancel_appointment(actor, appointment, "plan revised")
        interval = course_of(revised).interval_days
        last = local_day(after.performed_at)
        days = [last + timedelta(days=interval * (j + 1)) for j in range(len(ahead))]
        self._book(revised, days, when + timedelta(minutes=5))
        return revised

    def complete(self, plan_row: TreatmentPlan, last: TreatmentSession) -> None:
        with clock.frozen_at(last.finalised_at + timedelta(minutes=1)):
            consultations.complete_plan(acting(last.practitioner), plan_row)

    # --- after the series ---------------------------------------------------------------------

    def follow_ups(
        self, plan_row: TreatmentPlan, last: TreatmentSession, after_days: tuple[int, ...]
    ) -> None:
        """Each follow-up booked at the visit before it; those already past are graded, the
        first one still to come stays booked. The last grade comes with a photo."""
        member = last.practitioner
        patient = plan_row.patient
        response = self.rng.uniform(0.25, 0.6)  # this patient's share of the possible change
        seen = last.appointment
        ended = local_day(last.performed_at)
        for i, after in enumerate(after_days):
            day = ended + timedelta(days=after)
            visit = self.premises.book(
                member, patient, member, day, Kind.FOLLOW_UP,
                booked_at=seen.end, minutes=20, plan=plan_row,
            )  # fmt: skip
            if day >= self.today:
                break
            # Half the change at a month, all of it by three, fading a little by six.
            self._grade(plan_row, visit, response * (0.55, 1.0, 0.8)[min(i, 2)])
            self.premises.mark(member, visit, Status.COMPLETED)
            seen = visit
        if seen is not last.appointment:
            self.photo(last, "follow_up", 0.5, on=local_day(seen.start))

    def _grade(self, plan_row: TreatmentPlan, visit: Appointment, share: float) -> None:
        """Grades on each concern's own scale: the baseline moved `share` of the way to best."""
        with clock.frozen_at(visit.start + timedelta(minutes=10)):
            for t in course_of(plan_row).treatments:
                scale = self.kb.scales[self.kb.concerns[t.concern].scale]
                best = scale.min if scale.higher_is_worse else scale.max
                grade = t.severity + share * (best - t.severity)
                outcomes.record_grade(
                    acting(visit.practitioner),
                    plan_row.patient,
                    area=t.area,
                    concern=t.concern,
                    grade=round(grade * 2) / 2,  # graded to the half point
                    graded_on=local_day(visit.start),
                    plan=plan_row,
                    notes="Graded against the baseline photographs.",
                )

    def photo(
        self, charted: TreatmentSession, stage: str, smoothing: float, on: date | None = None
    ) -> None:
        """A synthetic photo of the session's first area, uploaded at the session (or on `on`,
        a follow-up day) with the patient's consent to keep it in the record."""
        area = charted.areas.order_by("area").first().area
        patient = charted.patient
        data, _, _ = images.skin_jpeg(
            self.kb.areas[area].name, patient.fitzpatrick, stage, smoothing, self.rng
        )
        moment = charted.performed_at if on is None else aware(on, time(12))
        with clock.frozen_at(moment):
            photo = charting.upload_photo(
                acting(charted.practitioner),
                patient,
                io.BytesIO(data),
                area=area,
                stage=stage,
                taken_on=clock.today(),
                session=charted if on is None else None,
                consent_for_record=True,
            )
        self.written.append(photo_store.path_of(photo.storage_name))
