"""The clinic's own evidence: where each follow-up grade fell in the forecast band made before it.

For every usable grade, the forecast the clinic could show just before it - the patient's profile,
the sessions done by then and the patient's earlier grades - gives a band for the grade: the
model's improvement plus the rater's error. A well-calibrated model puts 80 % of grades inside its
p10-p90 band, 10 % above and 10 % below. The report gives those shares by concern and modality, as
a table, a dict (for the web and the API) and a chart.

Grades taken within `follow_up.oedema_days` of a session measure swelling and are set aside, as
are grades dated before the course's first session.

The arithmetic is per course (one patient, one treatment): one pool of draws, the compartments
propagated to each grade day, earlier grades folded in as importance weights - no resampling, no
daily grid - so 5,000 patients take a few seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dermis.core.errors import InputError
from dermis.core.outcome import kinetics as kx
from dermis.core.outcome.clinic_records import FollowUpRecord
from dermis.core.outcome.inputs import Treatment
from dermis.core.outcome.parameters import OutcomeParameters, load_parameters
from dermis.core.outcome.personalise import (
    FollowUp,
    ageing_clock,
    draw_population,
    log_likelihood,
    patient_kinetics,
)

# Before a refit is allowed: enough grades overall, and per group (a concern's microneedling, or
# microdermabrasion) before that group moves. See docs/outcome-model.md for the reasoning.
MIN_FOLLOW_UPS_FOR_REFIT = 50
MIN_PATIENTS_FOR_REFIT = 20
MIN_FOLLOW_UPS_PER_GROUP = 20


@dataclass(frozen=True)
class GradePosition:
    """One grade against the band forecast before it (percent of pre-treatment severity)."""

    patient_id: str
    concern: str
    modality: str
    day: int  # days after the course's first session
    grade_pct: float
    p10: float
    p50: float
    p90: float
    pit: float  # share of the forecast's grades below this one (0.5: right in the middle)

    @property
    def position(self) -> str:
        return (
            "below"
            if self.grade_pct < self.p10
            else "above"
            if self.grade_pct > self.p90
            else "inside"
        )


@dataclass(frozen=True)
class GroupSummary:
    concern: str  # "all" for the whole clinic
    modality: str
    n: int
    inside: float
    above: float
    below: float

    @classmethod
    def of(cls, concern: str, modality: str, rows: Sequence[GradePosition]) -> GroupSummary:
        n = len(rows)
        count = {"inside": 0, "above": 0, "below": 0}
        for r in rows:
            count[r.position] += 1
        share = {k: (v / n if n else 0.0) for k, v in count.items()}
        return cls(concern, modality, n, share["inside"], share["above"], share["below"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "concern": self.concern,
            "modality": self.modality,
            "follow_ups": self.n,
            "inside_p10_p90": round(self.inside, 4),
            "above_p90": round(self.above, 4),
            "below_p10": round(self.below, 4),
        }


@dataclass(frozen=True)
class CalibrationReport:
    parameter_set: str
    positions: tuple[GradePosition, ...]
    groups: tuple[GroupSummary, ...]
    overall: GroupSummary
    set_aside: tuple[tuple[str, str, str], ...]  # (patient id, grade date, reason)
    patients: int

    @property
    def refit_allowed(self) -> bool:
        return not self.refit_blocker

    @property
    def refit_blocker(self) -> str:
        """Why a refit is not allowed yet ("" when it is)."""
        if self.overall.n < MIN_FOLLOW_UPS_FOR_REFIT:
            return f"{self.overall.n} usable follow-ups; a refit needs {MIN_FOLLOW_UPS_FOR_REFIT}"
        if self.patients < MIN_PATIENTS_FOR_REFIT:
            return f"{self.patients} patients; a refit needs {MIN_PATIENTS_FOR_REFIT}"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameter_set": self.parameter_set,
            "expected": {"inside_p10_p90": 0.8, "above_p90": 0.1, "below_p10": 0.1},
            "overall": self.overall.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "patients": self.patients,
            "set_aside": [
                {"patient_id": p, "date": d, "reason": why} for p, d, why in self.set_aside
            ],
            "refit": {
                "allowed": self.refit_allowed,
                "reason": self.refit_blocker,
                "minimum_follow_ups": MIN_FOLLOW_UPS_FOR_REFIT,
                "minimum_patients": MIN_PATIENTS_FOR_REFIT,
                "minimum_per_group": MIN_FOLLOW_UPS_PER_GROUP,
            },
        }

    def table(self) -> str:
        head = (
            f"{'concern':22} {'modality':18} {'grades':>7} {'inside':>8} {'above':>7} {'below':>7}"
        )
        lines = [
            f"Where follow-up grades fell in the forecast band made before them "
            f"(parameter set {self.parameter_set})",
            "A calibrated model: 80 % inside p10-p90, 10 % above, 10 % below.",
            "",
            head,
            "-" * len(head),
        ]
        for g in (*self.groups, self.overall):
            if g is self.overall:
                lines.append("-" * len(head))
            lines.append(
                f"{g.concern:22} {g.modality:18} {g.n:>7} {g.inside:>7.0%} {g.above:>7.0%} "
                f"{g.below:>7.0%}"
            )
        lines += ["", f"{self.patients} patients; {len(self.set_aside)} grades set aside"]
        reasons: dict[str, int] = defaultdict(int)
        for _, _, why in self.set_aside:
            reasons[why] += 1
        lines += [f"  {n} {why}" for why, n in reasons.items()]
        lines.append(
            "refit: allowed" if self.refit_allowed else f"refit: not yet ({self.refit_blocker})"
        )
        return "\n".join(lines)


@dataclass
class CourseArrays:
    """One course's pool of draws at its usable grade days (rows), for the report and the refit."""

    treatment: Treatment
    ceiling: float
    grades: list[FollowUpRecord] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    ageing: list[kx.F64] = field(default_factory=list)
    dermal: list[kx.F64] = field(default_factory=list)
    epidermal: list[kx.F64] = field(default_factory=list)


def group_courses(records: Iterable[FollowUpRecord]) -> list[list[FollowUpRecord]]:
    courses: dict[tuple[str, Treatment], list[FollowUpRecord]] = defaultdict(list)
    for r in records:
        courses[r.course].append(r)
    return [sorted(rows, key=lambda r: r.grade_date) for rows in courses.values()]


def course_arrays(
    params: OutcomeParameters,
    rows: Sequence[FollowUpRecord],
    n_draws: int,
    rng: np.random.Generator,
    set_aside: list[tuple[str, str, str]],
) -> CourseArrays:
    """Propagate one course's pool to each usable grade day."""
    first = rows[0]
    sessions = sorted(set().union(*(r.sessions for r in rows)))
    day0 = sessions[0]
    session_days = [(d - day0).days for d in sessions]
    kin = patient_kinetics(params, first.patient, first.treatment)
    out = CourseArrays(first.treatment, kin.ceiling)
    oedema = params.follow_up.oedema_days.value
    usable = []
    for r in rows:
        day = (r.grade_date - day0).days
        if day < 0:
            set_aside.append((r.patient_id, r.grade_date.isoformat(), "before the first session"))
        elif any(0 < day - s < oedema for s in session_days):
            set_aside.append(
                (r.patient_id, r.grade_date.isoformat(), f"within {oedema:g} days of a session")
            )
        else:
            usable.append((day, r))
    if not usable:
        return out
    draws = draw_population(params, first.patient, first.treatment, n_draws, rng)
    clock = ageing_clock(params, first.patient, usable[-1][0] + 1)
    state, done = kx.State.empty(n_draws), 0
    for day, r in usable:
        while done < len(session_days) and session_days[done] < day:
            state = kx.apply_session(kin, draws, state, session_days[done])
            done += 1
        if state.day < 0:
            dermal = epidermal = np.zeros(n_draws)
        else:
            dermal, epidermal = kx.components_at(kin, draws, state, day)
        out.grades.append(r)
        out.days.append(day)
        out.ageing.append(draws.ageing * clock[day])
        out.dermal.append(dermal)
        out.epidermal.append(epidermal)
    return out


def _weighted_quantiles(values: kx.F64, weights: kx.F64, probs: Sequence[float]) -> kx.F64:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    cum /= cum[-1]
    idx = np.minimum(np.searchsorted(cum, probs), values.size - 1)
    return values[order][idx]


def positions_of(c: CourseArrays, rater_sd: float, rng: np.random.Generator) -> list[GradePosition]:
    """Each grade against the band of the grade forecast before it (earlier grades weighed in)."""
    out = []
    log_w = np.zeros(c.ageing[0].size) if c.grades else np.zeros(0)
    for r, day, a, d, e in zip(c.grades, c.days, c.ageing, c.dermal, c.epidermal, strict=True):
        improvement = kx.improvement_pct(a - d - e, c.ceiling)
        graded = improvement + rater_sd * rng.standard_normal(improvement.size)
        w = np.exp(log_w - log_w.max())
        p10, p50, p90 = _weighted_quantiles(graded, w, (0.1, 0.5, 0.9))
        pit = float(np.sum(w * (graded < r.point_pct)) / np.sum(w))
        t = c.treatment
        out.append(
            GradePosition(r.patient_id, t.concern, t.modality, day, r.point_pct,
                          float(p10), float(p50), float(p90), pit)
        )  # fmt: skip
        follow_up = FollowUp(day, r.low_pct, r.high_pct)
        log_w = log_w + log_likelihood(improvement[None, :], [follow_up], rater_sd)
    return out


def calibration_report(
    records: Sequence[FollowUpRecord],
    parameters: OutcomeParameters | None = None,
    n_draws: int = 400,
    seed: int = 0,
) -> CalibrationReport:
    """Where each grade fell in the forecast band made before it, by concern and modality."""
    if not records:
        raise InputError("--records", "no follow-up records to report on")
    params = parameters or load_parameters()
    rng = np.random.default_rng(seed)
    rater_sd = params.follow_up.rater_sd_pct.value
    set_aside: list[tuple[str, str, str]] = []
    positions: list[GradePosition] = []
    courses = group_courses(records)
    for rows in courses:
        c = course_arrays(params, rows, n_draws, rng, set_aside)
        positions += positions_of(c, rater_sd, rng)
    by_group: dict[tuple[str, str], list[GradePosition]] = defaultdict(list)
    for p in positions:
        by_group[(p.concern, p.modality)].append(p)
    groups = tuple(GroupSummary.of(c, m, rows) for (c, m), rows in sorted(by_group.items()))
    return CalibrationReport(
        parameter_set=params.version,
        positions=tuple(positions),
        groups=groups,
        overall=GroupSummary.of("all", "all", positions),
        set_aside=tuple(set_aside),
        patients=len({r.patient_id for r in records}),
    )


def plot_calibration(report: CalibrationReport, path: str | Path) -> Path:
    """Stacked bars per concern and modality (below / inside / above the band), and the PIT
    histogram of all grades (flat when calibrated). PNG or SVG by the file's suffix."""
    out = Path(path)
    if out.suffix.lower() not in (".png", ".svg"):
        raise InputError("--plot", f"must end in .png or .svg, got {out.name!r}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = (*report.groups, report.overall)
    labels = [f"{g.concern.replace('_', ' ')} ({g.modality[:5]}.) n={g.n}" for g in groups]
    labels[-1] = f"all grades n={report.overall.n}"
    fig, (bars, hist) = plt.subplots(
        1, 2, figsize=(11, 0.35 * len(groups) + 2.4), dpi=110, width_ratios=(2.2, 1)
    )
    ypos = np.arange(len(groups))[::-1]
    below = np.array([g.below for g in groups]) * 100
    inside = np.array([g.inside for g in groups]) * 100
    above = np.array([g.above for g in groups]) * 100
    bars.barh(ypos, below, color="#d94801", label="below p10")
    bars.barh(ypos, inside, left=below, color="#9ecae1", label="inside p10-p90")
    bars.barh(ypos, above, left=below + inside, color="#238b45", label="above p90")
    for x in (10, 90):
        bars.axvline(x, color="0.2", ls="--", lw=0.8)
    bars.set_yticks(ypos, labels, fontsize=8)
    bars.set_xlim(0, 100)
    bars.set_xlabel("% of follow-up grades (calibrated: 10 / 80 / 10)")
    bars.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
    pits = [p.pit for p in report.positions]
    hist.hist(pits, bins=10, range=(0, 1), color="#6baed6", edgecolor="white")
    if pits:
        hist.axhline(len(pits) / 10, color="0.2", ls="--", lw=0.8)
    hist.set_xlabel("position in the forecast (0 = lowest, 1 = highest)")
    hist.set_ylabel("grades")
    hist.set_title("flat when calibrated", fontsize=9)
    fig.suptitle(f"Follow-up grades against their forecasts (parameter set {report.parameter_set})",
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    try:
        fig.savefig(out)
    except OSError as exc:
        raise InputError("--plot", f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return out
