"""Whatever order a clinic does things in, through whichever service, no treatment ends up booked
inside a deferral, before the plan's start, inside a pre-care lead time without the recorded
exception, or over an absolute finding — unless it is flagged for review.

Hypothesis drives random sequences of consultations, plan acceptances, bookings, moves, series
bookings and recall bookings through the services. Refusals are expected; what is checked is the
state at the end, against the rules restated here (not by asking the gate again).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermis.core.aftercare import precare_rules
from dermis.core.knowledge.schema import Severity
from dermis.core.planning import Plan
from dermis.core.screening import Screening
from dermis.web.clinic.core_inputs import (
    active_plan,
    core_intake,
    core_patient,
    knowledge,
    latest_consultation,
)
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import Consultation
from dermis.web.clinic.scheduling import recall, series, services
from tests import factories

TODAY = timezone.localdate()
INTAKES = {
    "clean": {},
    "isotretinoin": {"isotretinoin_last_dose": (TODAY - timedelta(days=40)).isoformat()},
    "cold sores": {"herpes_simplex_history": True},
    "pregnant": {"pregnant": True},
    "infected cheeks": {"active_infection_areas": ["cheeks"]},
    "filler": {
        "recent_procedures": [
            {
                "kind": "filler",
                "date": (TODAY - timedelta(days=20)).isoformat(),
                "areas": ["cheeks"],
            }
        ]
    },
}
ASSESSMENTS = [
    {"concerns": [{"area": "cheeks", "concern": "acne_scars_rolling", "severity": 3}]},
    {"concerns": [{"area": "forehead", "concern": "fine_lines", "severity": 2}]},
]

consult = st.tuples(st.just("consult"), st.sampled_from(sorted(INTAKES)), st.integers(0, 1))
accept = st.tuples(st.just("accept"))
book = st.tuples(
    st.just("book"),
    st.integers(0, 150),  # days ahead
    st.integers(8, 18),  # hour
    st.sampled_from(["", "microneedling", "microdermabrasion"]),
    st.booleans(),  # pre-care recorded
)
move = st.tuples(st.just("move"), st.integers(0, 5), st.integers(0, 150))
book_series = st.tuples(st.just("series"), st.booleans())
chart = st.tuples(
    st.just("chart"),
    st.sampled_from(["microneedling", "microdermabrasion"]),
    st.sampled_from(["cheeks", "forehead"]),
    st.booleans(),  # pre-care recorded
    st.booleans(),  # finalise
)
recall_step = st.tuples(st.just("recall"))
steps = st.lists(
    st.one_of(consult, accept, book, move, book_series, chart, recall_step), min_size=1, max_size=7
)


KNOWN_WHEN_CHARTED: dict[int, tuple] = {}  # session id -> (consultation, plan) at charting


def _run(world, step) -> None:
    pat, nora = world.pat, world.nora
    kind = step[0]
    if kind == "consult":
        factories.consultation(pat, nora, INTAKES[step[1]], ASSESSMENTS[step[2]])
    elif kind == "accept":
        open_ = nora.consultations.filter(status=Consultation.Status.OPEN).first()
        if open_ is not None:
            factories.accept(pat, open_)
    elif kind == "book":
        _, days, hour, modality, precare = step
        start = factories.next_weekday_at(hour, days_ahead=days)
        factories.appointment(
            pat, nora, start, kind="treatment", modality=modality, precare_done=precare
        )
    elif kind == "move":
        _, which, days = step
        booked = list(nora.appointments.filter(status="booked").order_by("pk"))
        if booked:
            target = booked[which % len(booked)]
            start = factories.next_weekday_at(target.start.hour, days_ahead=days)
            services.move_appointment(factories.actor(pat), target, start=start)
    elif kind == "series":
        plan = active_plan(nora)
        if plan is None:
            return
        prefs = series.Preferences(pat, world.northgate.locations.get(), precare_done=step[1])
        setup = series.setup(plan, prefs, timezone.now())
        best = series.propose(setup).best()
        if best is not None:
            series.book(factories.actor(pat), setup, list(best.slots), timezone.now())
    elif kind == "chart":
        _, modality, area, precare, sign = step
        setting = 1.0 if modality == "microneedling" else "fine"
        device = "automated_pen" if modality == "microneedling" else "diamond_tip"
        # What the clinic knew when it charted: the session is judged against that.
        known = (latest_consultation(nora), active_plan(nora))
        draft = factories.session(
            pat, nora, modality=modality, device=device, areas={area: setting},
            precare_done=precare, plan=known[1],
        )  # fmt: skip
        KNOWN_WHEN_CHARTED[draft.pk] = known
        if sign:
            factories.finalised(pat, draft)
    elif kind == "recall":
        recall.book_maintenance(factories.actor(pat), nora, TODAY, timezone.now())


def _violations(nora) -> list[str]:
    kb = knowledge()
    consultation = latest_consultation(nora)
    screening = Screening.from_dict(consultation.screening) if consultation else None
    plan_row = active_plan(nora)
    plan = Plan.from_dict(plan_row.content) if plan_row else None
    out = []
    treatments = nora.appointments.filter(
        status="booked", kind__in=("treatment", "maintenance"), safety_flag=""
    )
    for a in treatments:
        day = timezone.localtime(a.start).date()
        told = timezone.localtime(a.created_at).date()
        modalities = (
            [a.modality] if a.modality else [c.modality for c in plan.courses] if plan else []
        )
        for modality in modalities:
            for f in screening.for_modality(modality) if screening else ():
                if (
                    f.severity is Severity.ABSOLUTE
                    and not f.areas
                    and (f.until is None or day < f.until)
                ):
                    out.append(f"{a.pk} {modality} on {day} inside {f.rule} until {f.until}")
            course = plan.course_for(modality) if plan else None
            if course is not None and day < course.earliest_start:
                out.append(f"{a.pk} {modality} on {day} before the plan's {course.earliest_start}")
            if not a.precare_confirmed:
                who = core_patient(nora, TODAY) if nora.fitzpatrick else None
                intake = core_intake(consultation) if consultation else None
                lead = max(
                    (
                        r.days_before
                        for _, r in precare_rules(modality, kb, who, intake)
                        if not r.optional
                    ),
                    default=0,
                )
                if (day - told).days < lead:
                    out.append(f"{a.pk} {modality} on {day}: {lead}-day pre-care not given")
    for session in nora.sessions.all():
        then, plan_then = KNOWN_WHEN_CHARTED[session.pk]
        screening_then = Screening.from_dict(then.screening) if then else None
        course_plan = Plan.from_dict(plan_then.content) if plan_then else None
        out += _session_violations(session, screening_then, course_plan, then, kb)
    return out


def _session_violations(session, screening, plan, consultation, kb) -> list[str]:
    """A charted session (draft or signed) against the same rules as a booking."""
    out = []
    day = timezone.localtime(session.performed_at).date()
    areas = {a.area for a in session.areas.all()}
    for f in screening.for_modality(session.modality) if screening else ():
        inside = f.until is None or day < f.until
        covers = not f.areas or areas & set(f.areas)
        if f.severity is Severity.ABSOLUTE and covers and inside:
            out.append(f"session {session.pk} on {day} inside {f.rule} until {f.until}")
    course = plan.course_for(session.modality) if plan else None
    if course is not None and day < course.earliest_start:
        out.append(f"session {session.pk} on {day} before the plan's {course.earliest_start}")
    if screening is None:
        out.append(f"session {session.pk} charted without a screening")
    if not session.precare_confirmed:
        who = core_patient(session.patient, TODAY) if session.patient.fitzpatrick else None
        intake = core_intake(consultation) if consultation else None
        rules = precare_rules(session.modality, kb, who, intake)
        lead = max((r.days_before for _, r in rules if not r.optional), default=0)
        if lead > 0:  # charted today, with no booking made ahead
            out.append(f"session {session.pk}: {lead}-day pre-care not given")
    return out


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
def test_no_door_books_a_treatment_the_screening_forbids(world, sequence):
    factories.working_hours(world.pat)
    KNOWN_WHEN_CHARTED.clear()
    with transaction.atomic():
        for step in sequence:
            # a refusal is an answer, not a failure
            with contextlib.suppress(ServiceError, series.NotBookable, series.SeriesChanged):
                _run(world, step)
        problems = _violations(world.nora)
        transaction.set_rollback(True)
    assert not problems, problems
