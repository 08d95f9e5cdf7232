"""Moving an appointment from the portal: the free times a patient is offered, and what a refusal
means in plain words. The move itself is the staff's reschedule service (`scheduling/reschedule`),
with the patient as the actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from dermis.core import gate
from dermis.core.errors import InputError
from dermis.web.clinic import safety
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.models import OPEN_STATUSES, Appointment
from dermis.web.clinic.scheduling import lifecycle, reschedule

PER_PAGE = 8
WEEKS_AHEAD = 12  # searched for one page of times
HORIZON_DAYS = 366  # no time offered further ahead


@dataclass(frozen=True)
class Offers:
    starts: tuple[datetime, ...]
    later_from: date | None  # the first day of the next page of times


def why_not_movable(appointment: Appointment, now: datetime) -> str:
    """Why the patient cannot move this appointment online ('' when they can)."""
    if appointment.status not in OPEN_STATUSES or appointment.start <= now:
        return "This appointment can no longer be changed online."
    if lifecycle.inside_notice(appointment, now):
        return lifecycle.call_the_clinic(appointment.clinic)
    return ""


def _gate(appointment: Appointment):
    """Whether the safety gate lets this appointment's treatment be given on a day."""
    if appointment.kind not in safety.TREATMENT_KINDS:
        return lambda day: True
    modalities = safety.modalities_of(appointment.patient, appointment.modality)
    ctx = safety.context(appointment.patient, precare_done=appointment.precare_confirmed)
    kb = knowledge()
    held: dict[str, date | None] = {}  # modality -> refused before this day (None: every day)

    def allowed(day: date) -> bool:
        for modality in modalities:
            if modality in held and (held[modality] is None or day < held[modality]):
                return False
            verdict = gate.check(gate.Act(gate.ActKind.BOOK, modality, day), ctx, kb)
            if not verdict.allowed:
                held[modality] = verdict.possible_from
                return False
        return True

    return allowed


def offers(appointment: Appointment, now: datetime, first: date | None = None) -> Offers:
    """Up to PER_PAGE free times (one a day) from `first`, outside the notice period, found within
    WEEKS_AHEAD weeks of the first day that keeps the series' intervals, that keep those
    intervals and that the safety gate allows."""
    not_before = now + lifecycle.notice(appointment.clinic)
    earliest = timezone.localtime(not_before).date()
    first = max(first or earliest, earliest)
    try:
        found = reschedule.free_times(
            appointment,
            now,
            first=first,
            not_before=not_before,
            count=PER_PAGE,
            days=WEEKS_AHEAD * 7,
            horizon=timezone.localtime(now).date() + timedelta(days=HORIZON_DAYS),
            day_allowed=_gate(appointment),
        )
    except InputError:
        return Offers((), None)
    return Offers(found.starts, found.later_from)


TAKEN = "That time is no longer free. Please choose another time."


def refusal(err: ServiceError) -> str:
    """A service's refusal of a move, for the patient: no citation keys, no clinical shorthand."""
    if err.code.startswith("unsafe:"):
        when = (
            f" The first possible day is {err.possible_from.day} {err.possible_from:%B %Y}."
            if err.possible_from
            else ""
        )
        return (
            "Your treatment can't be given on that day, because of your health answers."
            f"{when} Please choose another time, or call the clinic."
        )
    if err.code == "slot-taken":
        return TAKEN
    return sentence(err.message)
