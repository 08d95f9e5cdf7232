"""A patient's outcome forecast from their plan, charted sessions and follow-up grades.

Translation only: the model is `dermis.core.outcome`. What is asked of it:

- the treatment: the active plan's course (the modality of the latest signed session if the plan
  has it, else the first course) and, in it, the treatment (area and concern) with the most
  follow-up grades (else the first); its device and depth/tip, the latest signed session's setting
  on that area taking precedence over the plan's;
- the sessions: signed (finalised) sessions of that modality on that area, as days from the first
  one; then the plan's remaining sessions at its interval (none earlier than today). Before the
  first session, day 0 is the course's earliest start or today, whichever is later;
- the patient: age on day 0, sex and phototype (sun exposure and smoking are not recorded: the
  model's defaults, moderate sun and non-smoker, are used);
- the grades: each grade of that area and concern after day 0 becomes a follow-up band of
  improvement in percent of pre-treatment severity. Severity is measured from the scale's "none"
  end (its minimum, or its maximum when higher is better), so with baseline b, grade g and that end
  n, improvement = 100 * (b - g) / (b - n). A grade is a rounded reading, so it is taken as the band
  g - 0.5 .. g + 0.5 (clipped to -100..100 %). The baseline is the grade's own, else the plan's
  severity for that concern; a baseline at the "none" end leaves nothing to improve and is skipped.

A forecast is 300 seeded draws (the same inputs always give the same chart), cached by its inputs.
It uses the clinic's active parameter set (`parameter_sets.active_parameters`: its own refit, else
the packaged set) and names its version; the version is one of the inputs, so of the cache key.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import threading
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.core.cache import cache
from django.utils import timezone

import dermis
from dermis.core.errors import InputError
from dermis.core.outcome import (
    CONCERNS,
    PATIENT_SENTENCE,
    FollowUp,
    Forecast,
    OutcomeModel,
    OutcomeParameters,
    make_patient,
    make_treatment,
)
from dermis.core.plan_records import Course, Plan, Treatment
from dermis.core.progress import SessionDone, next_session_earliest, remaining_sessions
from dermis.web.clinic import core_inputs
from dermis.web.clinic.core_inputs import active_plan, knowledge
from dermis.web.clinic.models import FollowUpGrade, Patient, TreatmentPlan, TreatmentSession
from dermis.web.clinic.outcomes.parameter_sets import ACTIVE_SET, active_parameters
from dermis.web.clinic.process_memo import ProcessMemo
from dermis.web.clinic.together import read_together, row_of

N_DRAWS = 300
SEED = 0
HORIZON_AFTER_LAST_DAYS = 1096  # three years after the last session, as the CLI
CACHE_SECONDS = 3600
SVG_COMPRESSION = 6  # zlib's level: a chart is drawn once and read on every view
_plot_lock = threading.Lock()  # pyplot keeps global state: one figure at a time


@dataclass(frozen=True)
class PatientForecast:
    """The forecast, or None and why not; with what it was asked."""

    forecast: Forecast | None
    reason: str = ""
    start: date | None = None  # day 0
    modality: str = ""
    area: str = ""
    concern: str = ""
    setting: str = ""  # "1 mm" or "medium tip"
    sessions_done: tuple[int, ...] = ()
    sessions_planned: tuple[int, ...] = ()
    follow_ups: tuple[FollowUp, ...] = field(default=())
    parameter_set: str = ""  # the version of the parameter set the forecast comes from

    @property
    def title(self) -> str:
        kb = knowledge()
        area = kb.areas[self.area].name if self.area in kb.areas else self.area
        concern = kb.concerns[self.concern].name if self.concern in kb.concerns else self.concern
        return f"{self.modality.capitalize()} ({self.setting}): {concern.lower()}, {area.lower()}"

    def day(self, offset: int | None) -> date | None:
        return self.start + timedelta(days=offset) if self.start and offset is not None else None

    @property
    def below_noticeable_on(self) -> date | None:
        """The first day the median is below noticeable after having reached it (None: never
        noticeable, or still noticeable at the end of the forecast)."""
        f = self.forecast
        if f is None or f.noticeable_until_day is None or f.noticeable_until_day >= f.days[-1]:
            return None
        return self.day(f.noticeable_until_day + 1)

    def summary(self) -> str:
        """Alt text: what the chart shows, in words."""
        f = self.forecast
        if f is None:
            return f"No forecast: {self.reason}."
        peak = f.peak_day
        lo, mid, hi = f.at(peak)
        text = (
            f"Forecast of improvement for {self.title}, {len(f.sessions)} sessions. "
            f"The typical (median) improvement peaks at {mid:.0f} % on "
            f"{self.day(peak):%d %B %Y} (day {peak}); 8 in 10 patients like this one fall "
            f"between {lo:.0f} % and {hi:.0f} % then. "
        )
        until = f.noticeable_until_day
        if until is None:
            text += f"The median does not reach noticeable ({f.noticeable_threshold:g} %)."
        elif until >= f.days[-1]:
            text += (
                f"The median is still noticeable at the end of the chart ({self.day(until):%B %Y})."
            )
        else:
            text += (
                f"The median stays noticeable ({f.noticeable_threshold:g} % or more) until "
                f"{self.day(until):%d %B %Y} (day {until})."
            )
        if self.follow_ups:
            text += f" Adjusted to {len(self.follow_ups)} follow-up grade(s)."
        return text + f" Outcome model parameters: {self.parameter_set}."

    @property
    def statement(self) -> str:
        """The patient sentence, naming the parameter set (the core's wording)."""
        return self.forecast.statement if self.forecast is not None else PATIENT_SENTENCE


def _course(plan: Plan, latest: TreatmentSession | None) -> Course | None:
    courses = [c for c in plan.courses if c.treatments]
    if latest is not None:
        for c in courses:
            if c.modality == latest.modality:
                return c
    return courses[0] if courses else None


def _treatment(course: Course, grades: list[FollowUpGrade]) -> Treatment:
    def count(t: Treatment) -> int:
        return sum(1 for g in grades if (g.area, g.concern) == (t.area, t.concern))

    # max() keeps the first of equals: the plan's order breaks ties
    return max(course.treatments, key=count)


def _done(session: TreatmentSession) -> SessionDone:
    return SessionDone(
        modality=session.modality,
        on=timezone.localtime(session.performed_at).date(),
        final=session.is_final,
        areas=tuple(a.area for a in session.areas.all()),
    )


def _planned_days(
    course: Course, signed: list[SessionDone], done: list[SessionDone], start: date, today: date
) -> list[int]:
    """The course's remaining sessions (progress: signed visits on the area count), as days from
    `start`: the first on the earliest day the next session may be, then at the plan's interval."""
    kb = knowledge()
    earliest = next_session_earliest(course, signed, kb, today)
    last = max((s.on for s in done), default=None)
    planned = []
    for _ in range(remaining_sessions(course, done)):
        day = (
            earliest if last is None else max(last + timedelta(days=course.interval_days), earliest)
        )
        planned.append((day - start).days)
        last = day
    return planned


def improvement_band(scale, baseline: float, grade: float) -> tuple[float, float] | None:
    """(low, high) improvement in % for a grade against its baseline; None if not measurable."""
    none_end = scale.min if scale.higher_is_worse else scale.max
    severity = baseline - none_end
    if abs(severity) < 1e-9:
        return None

    def pct(g: float) -> float:
        return max(-100.0, min(100.0, 100.0 * (baseline - g) / severity))

    a, b = pct(grade - 0.5), pct(grade + 0.5)
    return (min(a, b), max(a, b))


def _inputs(patient: Patient, today: date) -> dict | str:
    """Everything the model is asked, as plain values (the cache key), or why there is none."""
    if not patient.fitzpatrick:
        return "the phototype is not recorded yet"
    plan_row = active_plan(patient)
    if plan_row is None:
        return "there is no active treatment plan yet"
    # The record page reads them once for its panels; elsewhere they are read here.
    read = core_inputs.sessions(patient)
    read = core_inputs.read_sessions(patient) if read is None else read
    signed = [s for s in read if s.status == TreatmentSession.Status.FINAL]
    course = _course(Plan.from_dict(plan_row.content), signed[-1] if signed else None)
    if course is None:
        return "the plan has no course of treatment"
    modality = course.modality
    grades = core_inputs.grades(patient)
    t = _treatment(course, grades)
    if t.concern not in CONCERNS:
        return f"the outcome model does not cover {t.concern.replace('_', ' ')}"
    done = [
        s for s in signed if s.modality == modality and any(a.area == t.area for a in s.areas.all())
    ]
    depth, tip, device = t.depth_mm, t.tip, t.device
    if done:
        last = next(a for a in done[-1].areas.all() if a.area == t.area)
        depth = float(last.depth_mm) if last.depth_mm is not None else depth
        tip = last.tip or tip
        device = done[-1].device
    dates = sorted({timezone.localtime(s.performed_at).date() for s in done})
    start = dates[0] if dates else max(course.earliest_start, today)
    done_days = [(d - start).days for d in dates]
    planned = _planned_days(
        course, [_done(s) for s in signed], [_done(s) for s in done], start, today
    )
    kb = knowledge()
    scale = kb.scales[kb.concerns[t.concern].scale] if t.concern in kb.concerns else None
    follow_ups = []
    for g in grades:
        offset = (g.graded_on - start).days
        if not done_days or (g.area, g.concern) != (t.area, t.concern) or offset <= 0:
            continue
        baseline = g.baseline if g.baseline is not None else t.severity
        band = (
            improvement_band(scale, float(baseline), g.grade)
            if scale and baseline is not None
            else None
        )
        if band:
            follow_ups.append((offset, round(band[0], 3), round(band[1], 3)))
    return {
        "age": patient.age_on(start),
        "sex": patient.sex,
        "fitzpatrick": patient.fitzpatrick,
        "modality": modality,
        "concern": t.concern,
        "area": t.area,
        "device": device,
        "depth_mm": depth if modality == "microneedling" else None,
        "tip": tip if modality == "microdermabrasion" else None,
        "start": start.isoformat(),
        "done": done_days,
        "planned": planned,
        "follow_ups": follow_ups,
    }


def plan_lineage(plan: TreatmentPlan) -> set[int]:
    """Ids of the plan and the versions it revised: sessions under any of them count for it."""
    ids, current = set(), plan
    while current is not None and current.pk not in ids:
        ids.add(current.pk)
        current = current.previous
    return ids


def _run(inputs: dict, parameters: OutcomeParameters) -> PatientForecast:
    modality = inputs["modality"]
    try:
        who = make_patient(inputs["age"], inputs["sex"], inputs["fitzpatrick"])
        device = inputs["device"]
        try:
            treatment = make_treatment(
                modality, inputs["concern"], device, inputs["depth_mm"], inputs["tip"]
            )
        except InputError:
            # a device the model does not know (or a tip it does not take): the plan's default
            treatment = make_treatment(modality, inputs["concern"], None, inputs["depth_mm"])
        done = tuple(inputs["done"])
        schedule = done + tuple(inputs["planned"])
        follow_ups = tuple(FollowUp(d, lo, hi) for d, lo, hi in inputs["follow_ups"])
        model = OutcomeModel(parameters, n_draws=N_DRAWS, seed=SEED).fit(
            who, treatment, done, follow_ups if done else ()
        )
        forecast = model.predict(schedule[-1] + HORIZON_AFTER_LAST_DAYS, schedule)
    except InputError as exc:
        return PatientForecast(None, f"the model cannot use this plan ({exc.message})")
    setting = (
        f"{treatment.depth_mm:g} mm" if treatment.depth_mm is not None else f"{treatment.tip} tip"
    )
    if treatment.depth_mm is None and not treatment.tip:
        setting = treatment.device.replace("_", " ")
    return PatientForecast(
        forecast,
        start=date.fromisoformat(inputs["start"]),
        modality=modality,
        area=inputs["area"],
        concern=inputs["concern"],
        setting=setting,
        sessions_done=done,
        sessions_planned=tuple(inputs["planned"]),
        follow_ups=follow_ups,
        parameter_set=parameters.version,
    )


def _asked_key(patient: Patient, today: date, version: tuple[int, int] | None) -> str:
    """What the model's inputs are drawn from, as one digest: the patient's record version and
    their clinic's reference version (every row of theirs the inputs read, the plan, sessions,
    areas and grades, and the clinic's parameter sets: each table watched by the database's
    triggers, as a test holds it to), the patient's row (the phototype), the day (a course not
    begun starts from it), the time zone (a session's day) and the release (the model, the
    packaged parameters). '' without a version (inside a transaction, or not read)."""
    if version is None:
        return ""
    parts = (
        dermis.__version__,
        version,
        row_of(patient),
        today.isoformat(),
        timezone.get_current_timezone_name(),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _key(prefix: str, inputs: dict) -> str:
    text = json.dumps(inputs, sort_keys=True)
    return f"dermis:{prefix}:{hashlib.sha256(text.encode()).hexdigest()}"


def _asked(patient: Patient, today: date | None) -> tuple[dict | str, OutcomeParameters | None]:
    """The model's inputs with the parameter set's version (the cache key), and the parameters;
    or why there is no forecast, and None."""
    # Outside the record page (which reads these once for all its panels, together): the plan,
    # the sessions with their areas, the grades and the parameter set in one round trip.
    asks = patient.fitzpatrick and not core_inputs.reading_once(patient)
    ahead = core_inputs.forecast_reads(patient) if asks else []
    with read_together(*ahead, ACTIVE_SET.ahead(1, clinic=patient.clinic_id) if ahead else None):
        inputs = _inputs(patient, today or timezone.localdate())
        if isinstance(inputs, str):
            return inputs, None
        parameters = active_parameters(patient.clinic_id)
    inputs["parameter_set"] = parameters.version
    return inputs, parameters


def _cached(inputs: dict, parameters: OutcomeParameters) -> PatientForecast:
    key = _key("forecast", inputs)
    result = cache.get(key)
    if result is None:
        result = _run(inputs, parameters)
        cache.set(key, result, CACHE_SECONDS)
    return result


def _forecast(patient: Patient, today: date | None) -> tuple[dict | None, PatientForecast]:
    inputs, parameters = _asked(patient, today)
    if isinstance(inputs, str):
        return None, PatientForecast(None, inputs)
    return inputs, _cached(inputs, parameters)


def patient_forecast(patient: Patient, today: date | None = None) -> PatientForecast:
    """The patient's forecast, or PatientForecast(None, reason)."""
    return _forecast(patient, today)[1]


@dataclass(frozen=True)
class Panel:
    """What the record page says of the forecast, kept in the shared cache apart from the
    forecast itself (under a kilobyte, where the forecast is 51 KB to read and unpickle)."""

    forecast: bool  # whether there is one (the chart is drawn only then)
    reason: str = ""
    title: str = ""
    statement: str = ""
    summary: str = ""
    parameter_set: str = ""
    below_noticeable_on: date | None = None

    @classmethod
    def of(cls, result: PatientForecast) -> Panel:
        if result.forecast is None:
            return cls(False, reason=result.reason, summary=result.summary())
        return cls(
            True,
            title=result.title,
            statement=result.statement,
            summary=result.summary(),
            parameter_set=result.parameter_set,
            below_noticeable_on=result.below_noticeable_on,
        )


# This process's panels by their shared key, the newest last: a key is the model's inputs with the
# parameter set's version, so a panel kept under it never goes stale. Read here, the record page
# skips the shared cache's round trip (0.7 ms of the page's 12); at most 1,024 of them, each
# under a kilobyte (clinic/process_memo.py).
_PANELS: ProcessMemo = ProcessMemo(size=1024)
# What a chart was asked for, by the patient's record version and all else the model's inputs are
# drawn from (`_asked_key`): the chart's key, or why there is no forecast. A chart asked for again
# with nothing changed reads nothing of the patient (its plan, sessions, grades and the clinic's
# parameter set: a round trip of five reads) nor works out its inputs again.
_ASKED: ProcessMemo = ProcessMemo(size=1024)
# And its charts, compressed as the shared cache keeps them (about 25 KB each), by the same kind of
# key: a chart read here skips the shared cache's round trip and its unpickling.
_CHARTS: ProcessMemo = ProcessMemo(size=128)


def forecast_panel(patient: Patient, today: date | None = None) -> Panel:
    """The record page's account of the patient's forecast (`Panel`): this process's copy, else
    the shared cache's, else drawn from the forecast."""
    inputs, parameters = _asked(patient, today)
    if isinstance(inputs, str):
        return Panel.of(PatientForecast(None, inputs))
    key = _key("forecast-panel", inputs)
    panel = _PANELS.get(key)
    if panel is not None:
        return panel
    panel = cache.get(key)
    if panel is None:
        panel = Panel.of(_cached(inputs, parameters))
        cache.set(key, panel, CACHE_SECONDS)
    _PANELS.put(key, panel)
    return panel


def below_noticeable_on(patient: Patient, today: date | None = None) -> date | None:
    """For the recall worklist: the predicted date the median improvement falls below noticeable
    (None when there is no forecast, it never gets there, or it lasts past the chart)."""
    return patient_forecast(patient, today).below_noticeable_on


_METADATA = re.compile(rb"<metadata>.*?</metadata>\s*", re.DOTALL)


def forecast_svg(result: PatientForecast) -> bytes:
    """The chart as SVG, drawn by the core's plot function (deterministic: no date, fixed ids)."""
    import matplotlib

    from dermis.core.outcome.plot import plot_forecast

    assert result.forecast is not None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "forecast.svg"
        with _plot_lock, matplotlib.rc_context({"svg.hashsalt": "dermis"}):
            plot_forecast(result.forecast, out, result.title)
        data = out.read_bytes()
    # matplotlib stamps the time it drew the file; without it the same forecast is the same file
    return _METADATA.sub(b"", data, count=1)


def patient_forecast_svg(
    patient: Patient, today: date | None = None, version: tuple[int, int] | None = None
) -> tuple[bytes, str]:
    """(SVG bytes, '') or (b'', why there is no forecast). `version`: the patient's record
    version (`patients.record_version`), read before the patient's row: what the chart was asked
    for that version is then kept by this process, and the model's inputs are not read again
    while it stands (`_ASKED`)."""
    today = today or timezone.localdate()
    asked = _asked_key(patient, today, version)
    found = _ASKED.get(asked) if asked else None
    if found is not None and found[0] == "reason":
        return b"", found[1]
    if found is not None:
        kept = _CHARTS.get(found[1])
        if kept is not None:
            return zlib.decompress(kept), ""
    inputs, parameters = _asked(patient, today)
    if isinstance(inputs, str):
        if asked:
            _ASKED.put(asked, ("reason", inputs))
        return b"", inputs
    # A chart is kept (compressed: 120 KB of SVG is about a fifth of that) only for a forecast
    # there is, so a kept one is served without reading the forecast itself.
    key = _key("forecast-svgz", inputs)
    if asked:
        _ASKED.put(asked, ("chart", key))
    kept = _CHARTS.get(key)
    if kept is None:
        kept = cache.get(key)
    if kept is not None:
        _CHARTS.put(key, kept)
        return zlib.decompress(kept), ""
    result = _cached(inputs, parameters)
    if result.forecast is None:
        if asked:
            _ASKED.put(asked, ("reason", result.reason))
        return b"", result.reason
    svg = forecast_svg(result)
    kept = zlib.compress(svg, SVG_COMPRESSION)
    cache.set(key, kept, CACHE_SECONDS)
    _CHARTS.put(key, kept)
    return svg, ""
