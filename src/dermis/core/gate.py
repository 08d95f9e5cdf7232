"""The safety gate: may this modality touch this patient, on these areas, on this date?

Every act that puts a needle or an abrasive tip on a patient (booking it, charting it, signing it,
handing out its pre- or aftercare) asks `check` one question with the latest screening and the
accepted plan. The answer is a `Verdict`: the refusals (each with its rule, its sources and the
first day waiting would make it possible), the warnings to show, and the overrides used.

The rules are the knowledge base's (contraindications, protocols, pre-care); the gate only knows
how to apply them to a date. Its own conventions (how old a screening may be, how recent the
"anything changed?" check at the chair must be) are `dermis_default` and live in `Context`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from dermis.core.aftercare import precare_rules
from dermis.core.errors import InputError
from dermis.core.knowledge.schema import KnowledgeBase, Severity
from dermis.core.patient import Intake, Patient
from dermis.core.plan_records import Course, Plan
from dermis.core.progress import SessionDone, last_final, minimum_interval
from dermis.core.screening import Finding, Screening

DEFAULT = ("dermis_default",)  # the gate's own conventions
MIN_OVERRIDE_REASON = 10  # characters: a written reason, not a tick


class ActKind(StrEnum):
    BOOK = "book"
    CHART = "chart"
    FINALISE = "finalise"
    AFTERCARE = "aftercare"
    PRECARE = "precare"


DONE = {
    ActKind.BOOK: "booked",
    ActKind.CHART: "charted",
    ActKind.FINALISE: "finalised",
    ActKind.AFTERCARE: "aftercare given",
    ActKind.PRECARE: "pre-care given",
}


@dataclass(frozen=True)
class Act:
    kind: ActKind
    modality: str
    on: date  # the day of the treatment
    areas: tuple[str, ...] = ()  # () = not yet known (e.g. a booking without a plan)


@dataclass(frozen=True)
class Override:
    """A practitioner's written reason to go ahead despite a relative (dated) finding."""

    rule: str
    reason: str
    by: str = ""

    def to_dict(self) -> dict:
        return {"rule": self.rule, "reason": self.reason, "by": self.by}


@dataclass(frozen=True)
class Recheck:
    """The "anything changed?" check at the chair: new medicines, pregnancy, a cold sore, sunburn,
    a recent procedure."""

    on: date
    changed: bool
    note: str = ""


@dataclass(frozen=True)
class Context:
    today: date
    screening: Screening | None  # the latest screening (None: never screened)
    plan: Plan | None = None  # the accepted (active) plan, if any
    sessions: tuple[SessionDone, ...] = ()  # the patient's sessions so far (for intervals)
    notice_from: date | None = None  # when the patient was told the date; default today
    precare_done: bool = False  # the practitioner recorded that pre-care was done
    recheck: Recheck | None = None
    overrides: tuple[Override, ...] = ()
    max_screening_age_days: int = 90  # clinic setting; the default is dermis_default
    intake: Intake | None = None  # which pre-care rules apply
    patient: Patient | None = None  # phototype, for pre-care rules
    recheck_within_days: int = 7  # how recent the chair-side check must be (dermis_default)


@dataclass(frozen=True)
class Refusal:
    code: str  # finding, plan_start, lead_time, interval, stale_screening, not_screened,
    # changed_since_screening, not_in_plan, past
    field: str  # start, areas, modality, screening, precare_done, recheck, override_reason
    reason: str  # plain words with the rule's name and action
    possible_from: date | None  # the first day it becomes possible (None: not by waiting)
    citations: tuple[str, ...]
    rule: str = ""  # the finding's (or pre-care) rule id; overrides name it
    overridable: bool = False

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "field": self.field,
            "reason": self.reason,
            "possible_from": self.possible_from.isoformat() if self.possible_from else None,
            "citations": list(self.citations),
            "rule": self.rule,
            "overridable": self.overridable,
        }


FIRST_DAY_STEPS = 6  # rules that can push the day later: findings, plan, interval, lead time
WAITING_LIFTS = frozenset({"past", "finding", "plan_start", "interval", "lead_time"})


def human(day: date) -> str:
    """'1 Feb 2027'."""
    return f"{day.day} {day:%b %Y}"


def _sources(citations: tuple[str, ...]) -> str:
    return f" (source: {', '.join(citations)})" if citations else ""


@dataclass(frozen=True)
class Verdict:
    act: Act
    refusals: tuple[Refusal, ...]
    warnings: tuple[str, ...]
    overridden: tuple[tuple[Refusal, Override], ...]
    provisional: bool  # a treatment booked before any plan exists

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def possible_from(self) -> date | None:
        """The latest day any refusal lifts, if waiting lifts every one of them."""
        if not self.refusals or any(r.possible_from is None for r in self.refusals):
            return None
        return max(r.possible_from for r in self.refusals)

    def message(self) -> str:
        """One line: what stops the act (the refusal that lifts last) and its sources."""
        if self.allowed:
            text = "allowed (provisional)" if self.provisional else "allowed"
            return f"{text}: {'; '.join(self.warnings)}" if self.warnings else text
        day = self.possible_from
        if day is not None:
            first = next(r for r in self.refusals if r.possible_from == day)
            text = f"not before {human(day)} ({day.isoformat()}): {first.reason}"
        else:
            first = next(r for r in self.refusals if r.possible_from is None)
            text = f"not possible: {first.reason}"
        text += _sources(first.citations)
        more = len(self.refusals) - 1
        return text + (f" (and {more} more)" if more else "")

    def to_dict(self) -> dict:
        day = self.possible_from
        return {
            "act": {
                "kind": self.act.kind.value,
                "modality": self.act.modality,
                "on": self.act.on.isoformat(),
                "areas": list(self.act.areas),
            },
            "allowed": self.allowed,
            "provisional": self.provisional,
            "possible_from": day.isoformat() if day else None,
            "message": self.message(),
            "refusals": [r.to_dict() for r in self.refusals],
            "warnings": list(self.warnings),
            "overridden": [
                {"refusal": r.to_dict(), "override": o.to_dict()} for r, o in self.overridden
            ],
        }


# --- The rules, each returning (refusals, warnings) -------------------------------------------

Found = tuple[list[Refusal], list[str]]


def _past(act: Act, ctx: Context) -> Found:
    if act.kind is ActKind.BOOK and act.on < ctx.today:
        reason = f"{act.on.isoformat()} is in the past: choose today or a later day"
        return [Refusal("past", "start", reason, ctx.today, ())], []
    return [], []


def _recent_recheck(act: Act, ctx: Context) -> Recheck | None:
    """The chair-side check, if it is recent enough for this act and newer than the screening."""
    r, s = ctx.recheck, ctx.screening
    if r is None or s is None or r.on < s.as_of:
        return None
    return r if act.on - timedelta(days=ctx.recheck_within_days) <= r.on <= act.on else None


def _screening_state(act: Act, ctx: Context) -> Found:
    """Screened at all, not too long ago, and nothing changed since (dermis_default)."""
    s = ctx.screening
    if s is None:
        if act.kind is ActKind.BOOK:
            warning = "provisional: not screened yet; a consultation must screen the patient first"
            return [], [warning]
        reason = "the patient has not been screened: a consultation is needed before treatment"
        return [Refusal("not_screened", "screening", reason, None, DEFAULT)], []
    recheck = _recent_recheck(act, ctx)
    if recheck is not None and recheck.changed:
        note = f" ({recheck.note})" if recheck.note else ""
        reason = (
            f"something changed since the screening of {s.as_of.isoformat()}{note}: "
            "a new consultation (screening) is needed before treatment"
        )
        return [Refusal("changed_since_screening", "recheck", reason, None, DEFAULT)], []
    age = (act.on - s.as_of).days
    limit = ctx.max_screening_age_days
    if age <= limit:
        return [], []
    when = (
        f"the screening of {s.as_of.isoformat()} is {age} days old on {act.on.isoformat()} "
        f"(over {limit})"
    )
    if act.kind is ActKind.BOOK:
        return [], [f"{when}: a fresh 'anything changed?' check will be needed at the chair"]
    if recheck is not None:
        return [], []
    reason = (
        f"{when}: record the 'anything changed?' check with the patient "
        f"(within {ctx.recheck_within_days} days before the session)"
    )
    return [Refusal("stale_screening", "recheck", reason, None, DEFAULT)], []


def _where(areas: tuple[str, ...], kb: KnowledgeBase) -> str:
    names = [kb.areas[a].name.lower() if a in kb.areas else a for a in areas]
    return " on the " + ", ".join(names) if names else ""


def _finding(f: Finding, act: Act, kb: KnowledgeBase) -> Found:
    if f.areas and not act.areas:  # which areas is not known yet: decided when it is
        scope = _where(f.areas, kb)
        return [], [f"{f.name}{scope}: {f.action}{_sources(f.citations)}"]
    hit = tuple(a for a in act.areas if f.covers(a)) if f.areas else ()
    if f.areas and not hit:
        return [], []
    reason = f"{f.name}{_where(hit, kb)}: {f.action}"
    later = f.until is not None and act.on < f.until
    if f.severity is Severity.ABSOLUTE:
        if f.until is None:
            field = "areas" if f.areas else "modality"
            return [Refusal("finding", field, reason, None, f.citations, f.rule)], []
        if later:
            return [Refusal("finding", "start", reason, f.until, f.citations, f.rule)], []
        return [], []
    if f.severity is Severity.RELATIVE and f.until is not None:
        if not later:
            return [], []
        reason += "; a practitioner may go ahead earlier with a written reason"
        refusal = Refusal("finding", "override_reason", reason, f.until, f.citations, f.rule, True)
        return [refusal], []
    return [], [reason + _sources(f.citations)]


def _findings(act: Act, ctx: Context, kb: KnowledgeBase) -> Found:
    refusals: list[Refusal] = []
    warnings: list[str] = []
    for f in ctx.screening.for_modality(act.modality) if ctx.screening else ():
        r, w = _finding(f, act, kb)
        refusals += r
        warnings += w
    return refusals, warnings


def _plan(act: Act, ctx: Context, course: Course | None) -> Found:
    """Only what the accepted plan treats, and not before its course may start."""
    if ctx.plan is None:
        if act.kind is ActKind.BOOK:
            warning = (
                "provisional: no accepted plan yet; the areas, settings and interval are "
                "checked again when one is accepted"
            )
            return [], [warning]
        return [], [f"{DONE[act.kind]} without an accepted plan"]
    if course is None:
        reason = f"the accepted plan has no {act.modality} course"
        return [Refusal("not_in_plan", "modality", reason, None, DEFAULT)], []
    refusals = []
    if act.on < course.earliest_start:
        start = next((d for d in course.decisions if d.what == "earliest_start"), None)
        why = f": {start.reason}" if start and start.reason else ""
        reason = f"the plan starts {act.modality} on {course.earliest_start.isoformat()}{why}"
        cites = start.citations if start and start.citations else DEFAULT
        refusals.append(Refusal("plan_start", "start", reason, course.earliest_start, cites))
    outside = tuple(a for a in act.areas if a not in course.areas)
    if outside:
        names = ", ".join(outside)
        reason = f"the accepted plan does not treat {names} with {act.modality}"
        refusals.append(Refusal("not_in_plan", "areas", reason, None, DEFAULT))
    return refusals, []


def _interval(act: Act, ctx: Context, course: Course | None, kb: KnowledgeBase) -> Found:
    """At least the protocols' minimum interval after the last finalised session. Aftercare may be
    for a session already finalised that day, so only earlier days count for it."""
    same_day = act.kind is not ActKind.AFTERCARE
    before = act.on if same_day else act.on - timedelta(days=1)
    last = last_final(act.modality, ctx.sessions, before)
    if last is None:
        return [], []
    days, cites = minimum_interval(act.modality, course, kb)
    ready = last + timedelta(days=days)
    if ready <= act.on:
        return [], []
    reason = (
        f"at least {days} days between {act.modality} sessions (the last was "
        f"{last.isoformat()}), so the skin heals in between"
    )
    return [Refusal("interval", "start", reason, ready, cites)], []


def _lead_times(act: Act, ctx: Context, kb: KnowledgeBase) -> Found:
    """Enough notice to follow each pre-care rule, unless the practitioner recorded it done.
    Handing out pre-care or aftercare is how the rules get followed, so it is never held back."""
    if act.kind in (ActKind.PRECARE, ActKind.AFTERCARE) or ctx.precare_done:
        return [], []
    notice = ctx.notice_from or ctx.today
    given = (act.on - notice).days
    refusals = []
    rules = precare_rules(act.modality, kb, ctx.patient, ctx.intake)
    for rule_id, rule in sorted(rules, key=lambda r: -r[1].days_before):
        if rule.optional or given >= rule.days_before:
            continue
        reason = (
            f"pre-care needs {rule.days_before} days before the session ({given} given): "
            f"{rule.text} Record that pre-care was done to go ahead"
        )
        ready = notice + timedelta(days=rule.days_before)
        cites = tuple(rule.sources)
        refusals.append(Refusal("lead_time", "precare_done", reason, ready, cites, rule_id))
    return refusals, []


def _overrides(refusals: list[Refusal], ctx: Context) -> tuple[list, list, list[str]]:
    """Overridable refusals with a written reason move to `overridden`; others stay."""
    kept, used, warnings = [], [], []
    for r in refusals:
        o = next((o for o in ctx.overrides if r.rule and o.rule == r.rule), None)
        if o is None:
            kept.append(r)
        elif not r.overridable:
            why = "only a relative finding with a date can be overridden"
            warnings.append(f"the override of {r.rule} is ignored: {why}")
            kept.append(r)
        elif len(" ".join(o.reason.split())) >= MIN_OVERRIDE_REASON:
            used.append((r, o))
        else:
            short = f"; the override needs a written reason ({MIN_OVERRIDE_REASON}+ characters)"
            kept.append(replace(r, reason=r.reason + short))
    return kept, used, warnings


def _validate(act: Act, kb: KnowledgeBase) -> None:
    if act.modality not in kb.modalities or act.modality not in kb.protocols:
        known = ", ".join(kb.modalities)
        raise InputError("modality", f"unknown modality '{act.modality}' (known: {known})")
    for i, area in enumerate(act.areas):
        if area not in kb.areas:
            raise InputError(f"areas[{i}]", f"unknown area '{area}' (known: {', '.join(kb.areas)})")


def check(act: Act, context: Context, kb: KnowledgeBase) -> Verdict:
    """Is `act` safe on `act.on`? Raises InputError for an unknown modality or area. When it is
    not, `possible_from` is the first later day that passes every rule (None: waiting alone
    does not make it safe)."""
    return _first_possible(check_once(act, context, kb), context, kb)


def check_once(act: Act, context: Context, kb: KnowledgeBase) -> Verdict:
    """The rules on `act.on` only: each refusal names the day its own rule lifts."""
    _validate(act, kb)
    course = context.plan.course_for(act.modality) if context.plan else None
    refusals: list[Refusal] = []
    warnings: list[str] = []
    for refused, warned in (
        _past(act, context),
        _screening_state(act, context),
        _findings(act, context, kb),
        _plan(act, context, course),
        _interval(act, context, course, kb),
        _lead_times(act, context, kb),
    ):
        refusals += refused
        warnings += warned
    kept, used, ignored = _overrides(refusals, context)
    provisional = act.kind is ActKind.BOOK and context.plan is None
    return Verdict(act, tuple(kept), tuple(warnings + ignored), tuple(used), provisional)


def _first_possible(verdict: Verdict, context: Context, kb: KnowledgeBase) -> Verdict:
    """Make `possible_from` the first day the act is really allowed: a day one rule names may
    meet another (a session booked before the plan's start lands inside an interval), so the
    named day is checked again, a few steps at most (each step only moves later)."""
    first = verdict.possible_from
    if first is None or verdict.allowed:
        return verdict
    for _ in range(FIRST_DAY_STEPS):
        later = check_once(replace(verdict.act, on=first), context, kb)
        # Only the rules that waiting lifts move the day; the others (an old screening's
        # chair-side check, a plan without this course) are answered on the day itself.
        held = [r.possible_from for r in later.refusals if r.code in WAITING_LIFTS]
        if not held or any(d is None for d in held) or max(held) <= first:
            break
        first = max(held)
    refusals = tuple(
        replace(r, possible_from=first) if r.possible_from == verdict.possible_from else r
        for r in verdict.refusals
    )
    return replace(verdict, refusals=refusals)
