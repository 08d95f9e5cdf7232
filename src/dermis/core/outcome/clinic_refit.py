"""Refit the population's response from the clinic's own follow-ups: a new, versioned parameter set.

What moves: the size of the collagen response, per concern for microneedling
(`concerns.<c>.efficacy`) and once for microdermabrasion (its collagen and epidermal doses). Each is
a log-shift delta of the packaged value. Every course (a patient's grades) is scored against the
pool of draws its forecast uses, its grades jointly (a patient's draw is shared by their grades,
a random effect), so the likelihood of delta is a mixture over the draws - the patient spread,
the rater's error and the parameter uncertainty all included. The estimate is then shrunk towards
the packaged value with the packaged parameter uncertainty as the prior (normal-normal):

    delta = delta_hat * s^2 / (s^2 + se^2),   sd = s * se / sqrt(s^2 + se^2)

so a concern with few grades barely moves, and the new set's parameter uncertainty for it narrows
to `sd`. Groups with fewer than MIN_FOLLOW_UPS_PER_GROUP grades keep the packaged values.

The packaged set stays the default; a refit is a new set named "clinic-<date>-<hash>" (the hash of
the records and the base version) whose `provenance` records how it was made. Reverting is using
the base set again.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from scipy.special import log_ndtr, logsumexp, ndtr

from dermis.core.errors import InputError
from dermis.core.outcome import kinetics as kx
from dermis.core.outcome.clinic_calibration import (
    MIN_FOLLOW_UPS_FOR_REFIT,
    MIN_FOLLOW_UPS_PER_GROUP,
    MIN_PATIENTS_FOR_REFIT,
    CourseArrays,
    course_arrays,
    group_courses,
)
from dermis.core.outcome.clinic_records import FollowUpRecord
from dermis.core.outcome.parameters import (
    OutcomeParameters,
    get_param,
    load_parameters,
    with_values,
)

GRID = np.linspace(-1.5, 1.5, 31)  # log-shifts tried (x0.22 .. x4.5), then refined
MDA = "microdermabrasion"


@dataclass(frozen=True)
class GroupShift:
    group: str  # a concern (microneedling) or "microdermabrasion"
    parameters: tuple[str, ...]
    follow_ups: int
    patients: int
    estimate: float  # delta_hat, the clinic's data alone (log scale)
    standard_error: float
    prior_sd: float
    shift: float  # after shrinkage (log scale); 0 when not refitted
    posterior_sd: float
    refitted: bool
    reason: str = ""

    @property
    def factor(self) -> float:
        return float(np.exp(self.shift))

    def to_dict(self) -> dict[str, Any]:
        def r(x: float) -> float | None:
            return round(float(x), 4) if np.isfinite(x) else None

        return {
            "group": self.group,
            "parameters": list(self.parameters),
            "follow_ups": self.follow_ups,
            "patients": self.patients,
            "estimate_log": r(self.estimate),
            "standard_error": r(self.standard_error),
            "prior_sd": r(self.prior_sd),
            "shift_log": r(self.shift),
            "factor": r(self.factor),
            "posterior_sd": r(self.posterior_sd),
            "refitted": self.refitted,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Refit:
    parameters: OutcomeParameters  # the new set (its .version names it)
    base_version: str
    shifts: tuple[GroupShift, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.parameters.version,
            "base_version": self.base_version,
            "shifts": [s.to_dict() for s in self.shifts],
            "parameter_set": self.parameters.to_dict(),
        }


def _group_of(c: CourseArrays) -> str:
    return MDA if c.treatment.modality == MDA else c.treatment.concern


def _scored_parameters(params: OutcomeParameters, group: str) -> tuple[tuple[str, ...], float]:
    if group == MDA:
        names = ("dose.microdermabrasion_collagen", "dose.epidermal_dose.microdermabrasion")
        return names, params.uncertainty.microdermabrasion_sd_log.value
    return (f"concerns.{group}.efficacy",), params.concerns[group].efficacy_sd_log.value


def _log_likelihood_curve(courses: Sequence[CourseArrays], group: str, rater_sd: float) -> kx.F64:
    """Log marginal likelihood of the group's grades at each log-shift of GRID."""
    ageing = np.vstack([a for c in courses for a in c.ageing])
    dermal = np.vstack([d for c in courses for d in c.dermal])
    epidermal = np.vstack([e for c in courses for e in c.epidermal])
    low = np.array([r.low_pct for c in courses for r in c.grades])[:, None]
    high = np.array([r.high_pct for c in courses for r in c.grades])[:, None]
    starts = np.cumsum([0] + [len(c.grades) for c in courses[:-1]])
    ceiling = courses[0].ceiling
    point = low == high
    curve = np.empty(GRID.size)
    for i, delta in enumerate(GRID):
        scale = np.exp(delta)
        if group == MDA:
            y = ageing - scale * (dermal + epidermal)
        else:
            y = ageing - scale * dermal - epidermal
        pred = kx.improvement_pct(y, ceiling)
        zl, zh = (low - pred) / rater_sd, (high - pred) / rater_sd
        band = np.maximum(ndtr(zh) - ndtr(zl), 1e-300)
        tail = np.maximum(log_ndtr(zh), log_ndtr(-zl))
        ll = np.where(point, -0.5 * zl**2, np.where(band > 1e-300, np.log(band), tail))
        per_course = np.add.reduceat(ll, starts, axis=0)
        curve[i] = float(np.sum(logsumexp(per_course, axis=1) - np.log(per_course.shape[1])))
    return curve


def _estimate(curve: kx.F64) -> tuple[float, float]:
    """Maximum and standard error from a parabola through the best grid point and its neighbours."""
    i = int(np.clip(np.argmax(curve), 1, GRID.size - 2))
    h = GRID[1] - GRID[0]
    left, mid, right = curve[i - 1 : i + 2]
    second = (left - 2 * mid + right) / h**2
    if second >= 0:
        return float(GRID[int(np.argmax(curve))]), float("inf")
    peak = GRID[i] + 0.5 * h * (left - right) / (left - 2 * mid + right)
    return float(np.clip(peak, GRID[0], GRID[-1])), float(1.0 / np.sqrt(-second))


def _version(records: Sequence[FollowUpRecord], base: str, today: date) -> tuple[str, str]:
    blob = json.dumps(
        {"base": base, "records": sorted(json.dumps(r.to_dict(), sort_keys=True) for r in records)},
        sort_keys=True,
    )
    digest = hashlib.sha256(blob.encode()).hexdigest()
    return f"clinic-{today.isoformat()}-{digest[:8]}", digest


def refit_parameters(
    records: Sequence[FollowUpRecord],
    parameters: OutcomeParameters | None = None,
    today: date | None = None,
    n_draws: int = 400,
    seed: int = 0,
) -> Refit:
    """A new parameter set refitted to the clinic's follow-ups (see the module docstring).

    Raises InputError when there are too few usable follow-ups or patients for any refit.
    """
    params = parameters or load_parameters()
    today = today or date.today()
    rng = np.random.default_rng(seed)
    set_aside: list[tuple[str, str, str]] = []
    by_group: dict[str, list[CourseArrays]] = defaultdict(list)
    for rows in group_courses(records):
        c = course_arrays(params, rows, n_draws, rng, set_aside)
        if c.grades:
            by_group[_group_of(c)].append(c)
    usable = sum(len(c.grades) for cs in by_group.values() for c in cs)
    patients = len({c.grades[0].patient_id for cs in by_group.values() for c in cs})
    if usable < MIN_FOLLOW_UPS_FOR_REFIT or patients < MIN_PATIENTS_FOR_REFIT:
        raise InputError(
            "records",
            f"a refit needs at least {MIN_FOLLOW_UPS_FOR_REFIT} usable follow-up grades from "
            f"{MIN_PATIENTS_FOR_REFIT} patients; these records have {usable} from {patients}",
        )
    rater_sd = params.follow_up.rater_sd_pct.value
    shifts: list[GroupShift] = []
    values: dict[str, float] = {}
    changes: dict[str, dict[str, Any]] = {}
    for group in sorted(by_group):
        courses = by_group[group]
        names, prior_sd = _scored_parameters(params, group)
        n = sum(len(c.grades) for c in courses)
        k = len({c.grades[0].patient_id for c in courses})
        if n < MIN_FOLLOW_UPS_PER_GROUP:
            reason = f"{n} follow-ups; a group needs {MIN_FOLLOW_UPS_PER_GROUP}"
            shifts.append(GroupShift(group, names, n, k, np.nan, np.inf, prior_sd, 0.0, prior_sd,
                                     False, reason))  # fmt: skip
            continue
        estimate, se = _estimate(_log_likelihood_curve(courses, group, rater_sd))
        weight = prior_sd**2 / (prior_sd**2 + se**2) if np.isfinite(se) else 0.0
        shift = estimate * weight
        post_sd = prior_sd * se / np.sqrt(prior_sd**2 + se**2) if np.isfinite(se) else prior_sd
        shifts.append(GroupShift(group, names, n, k, estimate, se, prior_sd, shift, post_sd, True))
        note = (
            f"Refitted to {n} follow-ups of {k} patients: x{np.exp(shift):.3f} of "
            f"{params.version}'s value (clinic estimate x{np.exp(estimate):.3f}, se {se:.3f})."
        )
        for name in names:
            values[name] = get_param(params, name).value * float(np.exp(shift))
            changes[name] = {"basis": "clinic", "note": note}
        sd_name = (
            "uncertainty.microdermabrasion_sd_log"
            if group == MDA
            else f"concerns.{group}.efficacy_sd_log"
        )
        values[sd_name] = float(post_sd)
        changes[sd_name] = {"basis": "clinic", "note": f"Narrowed by {n} follow-ups."}
    version, digest = _version(records, params.version, today)
    provenance = {
        "base": params.version,
        "method": "log-shift of the response per group, shrunk to the base (normal prior: the "
        "base's parameter uncertainty)",
        "date": today.isoformat(),
        "follow_ups": usable,
        "patients": patients,
        "set_aside": len(set_aside),
        "records_sha256": digest,
        "shifts": [s.to_dict() for s in shifts],
    }
    new = with_values(params, values, changes, version=version, provenance=provenance)
    return Refit(new, params.version, tuple(shifts))
