"""A clinic's follow-up records, as the calibration report and the refit read them.

One record is one follow-up grade: who the patient is (the forecast's inputs), what was done (the
treatment and the session dates of that course) and what was seen (the grade, as improvement in
percent of pre-treatment severity, a point or a band, on a date). Records of the same patient and
treatment form a course; its earlier grades are what the forecast before a later grade knew.

The JSON form (a list, or {"records": [...]}):

    {"patient_id": "p1",
     "patient": {"age": 45, "sex": "f", "fitzpatrick": "III", "sun": "moderate", "smoker": false},
     "treatment": {"modality": "microneedling", "concern": "acne_scars_rolling",
                   "device": "automated_pen", "depth_mm": 1.5},
     "sessions": ["2025-01-06", "2025-02-03", "2025-03-03"],
     "grade": {"date": "2025-06-02", "improvement_pct": 35}}     # or "low_pct"/"high_pct"

`synthetic_clinic` generates such records for a seeded, simulated clinic (tests, benchmark, demo).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from dermis.core.errors import InputError
from dermis.core.outcome import kinetics as kx
from dermis.core.outcome.inputs import OutcomePatient, Treatment, make_patient, make_treatment
from dermis.core.outcome.parameters import OutcomeParameters, load_parameters
from dermis.core.outcome.personalise import ageing_clock, draw_population, patient_kinetics


@dataclass(frozen=True)
class FollowUpRecord:
    """One follow-up grade with the inputs of the forecast made before it."""

    patient_id: str
    patient: OutcomePatient
    treatment: Treatment
    sessions: tuple[date, ...]  # the course's sessions (those after the grade are ignored)
    grade_date: date
    low_pct: float
    high_pct: float

    @property
    def point_pct(self) -> float:
        """The grade as one number: a measurement, or the middle of its band."""
        return (self.low_pct + self.high_pct) / 2

    @property
    def course(self) -> tuple[str, Treatment]:
        return self.patient_id, self.treatment

    def to_dict(self) -> dict[str, Any]:
        p, t = self.patient, self.treatment
        treatment: dict[str, Any] = {
            "modality": t.modality,
            "concern": t.concern,
            "device": t.device,
        }
        if t.depth_mm is not None:
            treatment["depth_mm"] = t.depth_mm
        if t.tip is not None:
            treatment["tip"] = t.tip
        grade: dict[str, Any] = {"date": self.grade_date.isoformat()}
        if self.low_pct == self.high_pct:
            grade["improvement_pct"] = self.low_pct
        else:
            grade.update(low_pct=self.low_pct, high_pct=self.high_pct)
        return {
            "patient_id": self.patient_id,
            "patient": {
                "age": p.age,
                "sex": p.sex,
                "fitzpatrick": p.fitzpatrick.value,
                "sun": p.sun.value,
                "smoker": p.smoker,
            },
            "treatment": treatment,
            "sessions": [d.isoformat() for d in self.sessions],
            "grade": grade,
        }


def _date(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(field, f"must be a date YYYY-MM-DD, got {value!r}") from None


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not -100 <= value <= 100:
        raise InputError(field, f"must be a number of percent between -100 and 100, got {value!r}")
    return float(value)


def record_from_dict(data: Mapping[str, Any], where: str = "record") -> FollowUpRecord:
    """Validate one record; errors name the field (e.g. "records[3].grade.date")."""
    if not isinstance(data, Mapping):
        raise InputError(where, "must be an object")
    for key in ("patient", "treatment", "sessions", "grade"):
        if key not in data:
            raise InputError(f"{where}.{key}", "is missing")
    p, t, g = data["patient"], data["treatment"], data["grade"]
    if not isinstance(p, Mapping) or not isinstance(t, Mapping) or not isinstance(g, Mapping):
        raise InputError(where, "patient, treatment and grade must be objects")
    try:
        patient = make_patient(
            p.get("age"), p.get("sex", "f"), p.get("fitzpatrick", "III"),
            p.get("sun", "moderate"), bool(p.get("smoker", False)),
        )  # fmt: skip
        treatment = make_treatment(
            t.get("modality"), t.get("concern"), t.get("device"), t.get("depth_mm"), t.get("tip")
        )
    except InputError as exc:
        raise InputError(
            f"{where}.{exc.field.lstrip('-').replace('-', '_')}", exc.message
        ) from None
    if not isinstance(data["sessions"], list) or not data["sessions"]:
        raise InputError(f"{where}.sessions", "must be a non-empty list of dates")
    sessions = tuple(
        sorted(_date(d, f"{where}.sessions[{i}]") for i, d in enumerate(data["sessions"]))
    )
    if "improvement_pct" in g:
        low = high = _number(g["improvement_pct"], f"{where}.grade.improvement_pct")
    else:
        low = _number(g.get("low_pct"), f"{where}.grade.low_pct")
        high = _number(g.get("high_pct"), f"{where}.grade.high_pct")
        if low > high:
            raise InputError(f"{where}.grade", f"low_pct {low} is above high_pct {high}")
    return FollowUpRecord(
        patient_id=str(data.get("patient_id", where)),
        patient=patient,
        treatment=treatment,
        sessions=sessions,
        grade_date=_date(g.get("date"), f"{where}.grade.date"),
        low_pct=low,
        high_pct=high,
    )


def records_from_json(data: Any) -> list[FollowUpRecord]:
    rows = data.get("records") if isinstance(data, Mapping) else data
    if not isinstance(rows, list):
        raise InputError("--records", 'must hold a list of records (or {"records": [...]})')
    return [record_from_dict(row, f"records[{i}]") for i, row in enumerate(rows)]


def load_records(path: str | Path) -> list[FollowUpRecord]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError("--records", f"cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError("--records", f"{path} is not JSON: {exc}") from None
    return records_from_json(data)


# ---- a simulated clinic

_MN_CONCERNS = (
    ("acne_scars_rolling", 1.5, 0.22), ("acne_scars_boxcar", 1.5, 0.12),
    ("acne_scars_icepick", 1.5, 0.04), ("fine_lines", 1.0, 0.18), ("laxity", 1.0, 0.12),
    ("stretch_marks", 1.5, 0.08), ("enlarged_pores", 0.75, 0.08), ("uneven_texture", 0.75, 0.1),
    ("uneven_tone", 0.5, 0.06),
)  # fmt: skip
_MDA_CONCERNS = ("uneven_texture", "uneven_tone", "fine_lines", "enlarged_pores")


def synthetic_clinic(
    n_patients: int,
    seed: int = 0,
    truth: OutcomeParameters | None = None,
    start: date = date(2024, 1, 8),
    oedema_share: float = 0.05,
) -> list[FollowUpRecord]:
    """Records of a simulated clinic: each patient one course and 1-3 follow-up grades.

    Each patient's true course is one draw of the model under `truth` (the packaged parameters by
    default; pass another set to simulate a clinic whose patients respond differently), graded with
    the rater's error and rounded to whole percent. About `oedema_share` of patients also get an
    early grade a few days after a session (swelling), which the report must set aside.
    """
    params = truth or load_parameters()
    rng = np.random.default_rng(seed)
    rater = params.follow_up.rater_sd_pct.value
    mn_weights = np.array([w for _, _, w in _MN_CONCERNS])
    records: list[FollowUpRecord] = []
    for i in range(n_patients):
        patient = make_patient(
            int(rng.integers(20, 71)), str(rng.choice(["f", "f", "m"])),
            str(rng.choice(["I", "II", "III", "III", "IV", "V", "VI"])),
            str(rng.choice(["low", "moderate", "moderate", "high"])), bool(rng.random() < 0.15),
        )  # fmt: skip
        if rng.random() < 0.8:
            concern, depth, _ = _MN_CONCERNS[
                rng.choice(len(_MN_CONCERNS), p=mn_weights / mn_weights.sum())
            ]
            treatment = make_treatment("microneedling", concern, depth_mm=depth)
            gap, count = 28, int(rng.integers(3, 7))
        else:
            concern = str(rng.choice(_MDA_CONCERNS))
            treatment = make_treatment("microdermabrasion", concern, "crystal")
            gap, count = 14, int(rng.integers(4, 9))
        days = tuple(gap * k + int(rng.integers(-3, 4)) * (k > 0) for k in range(count))
        last = days[-1]
        grade_days = sorted({last + int(rng.integers(21, 45)), last + int(rng.integers(80, 200))})
        if rng.random() < 0.5:
            grade_days.append(last + int(rng.integers(300, 500)))
        if rng.random() < oedema_share:
            grade_days.insert(0, days[0] + int(rng.integers(2, 8)))
        truth_pct = _simulate_one(params, patient, treatment, days, grade_days, rng)
        first = start + timedelta(days=int(rng.integers(0, 540)))
        dates = tuple(first + timedelta(days=d) for d in days)
        for day, pct in zip(grade_days, truth_pct, strict=True):
            observed = float(np.clip(np.round(pct + rng.normal(0, rater)), -100, 100))
            records.append(
                FollowUpRecord(f"synthetic-{i}", patient, treatment, dates,
                               first + timedelta(days=day), observed, observed)
            )  # fmt: skip
    return records


def _simulate_one(
    params: OutcomeParameters,
    patient: OutcomePatient,
    treatment: Treatment,
    sessions: Sequence[int],
    grade_days: Sequence[int],
    rng: np.random.Generator,
) -> list[float]:
    """Improvement of one simulated patient (one draw) on each grade day."""
    kin = patient_kinetics(params, patient, treatment)
    draws = draw_population(params, patient, treatment, 1, rng)
    clock = ageing_clock(params, patient, max(grade_days) + 1)
    out = []
    for day in grade_days:
        state = kx.advance(kin, draws, kx.State.empty(1), [s for s in sessions if s < day])
        if state.day < 0:
            y = draws.ageing * clock[day]
        else:
            dermal, epidermal = kx.components_at(kin, draws, state, day)
            y = draws.ageing * clock[day] - dermal - epidermal
        out.append(float(kx.improvement_pct(y, kin.ceiling)[0]))
    return out
