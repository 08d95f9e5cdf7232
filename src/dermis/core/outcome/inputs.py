"""What the outcome model is told: the patient's profile, the treatment and the session days.

Validation lives here so the CLI, the web app and a notebook reject the same inputs with the same
message. A user error raises `InputError` naming the CLI option (the convention of `dermis.cli`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from numbers import Integral

from dermis.core.errors import InputError
from dermis.core.patient import Phototype

MODALITIES = ("microneedling", "microdermabrasion")
CONCERNS = (
    "fine_lines",
    "acne_scars_rolling",
    "acne_scars_boxcar",
    "acne_scars_icepick",
    "enlarged_pores",
    "uneven_texture",
    "uneven_tone",
    "stretch_marks",
    "laxity",
)
TIPS = ("fine", "medium", "coarse")


class Sun(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


@dataclass(frozen=True)
class DeviceSpec:
    modality: str
    min_depth_mm: float | None  # None: depth does not apply (microdermabrasion)
    max_depth_mm: float | None
    has_tip: bool = False


# Depth limits (doddaballapur2009, chu2021, drpen), to be read from the knowledge base later.
DEVICES: dict[str, DeviceSpec] = {
    "dermaroller": DeviceSpec("microneedling", 0.25, 2.0),
    "automated_pen": DeviceSpec("microneedling", 0.25, 2.5),
    "home_roller": DeviceSpec("microneedling", 0.0, 0.25),
    "crystal": DeviceSpec("microdermabrasion", None, None),
    "diamond_tip": DeviceSpec("microdermabrasion", None, None, has_tip=True),
    "home_kit": DeviceSpec("microdermabrasion", None, None),
}
DEFAULT_DEVICE = {"microneedling": "automated_pen", "microdermabrasion": "diamond_tip"}
DEFAULT_DEPTH_MM = 1.0
DEFAULT_TIP = "medium"


@dataclass(frozen=True)
class OutcomePatient:
    """The patient factors the outcome model uses."""

    age: int
    sex: str = "f"  # "f", "m" or "x"; only "f" follows the menopause schedule
    fitzpatrick: Phototype = Phototype.III
    sun: Sun = Sun.MODERATE
    smoker: bool = False


@dataclass(frozen=True)
class Treatment:
    """A resolved treatment: defaults filled in, limits checked."""

    modality: str
    concern: str
    device: str
    depth_mm: float | None  # microneedling only
    tip: str | None  # diamond_tip only


def make_patient(
    age: int,
    sex: str = "f",
    fitzpatrick: str | Phototype = Phototype.III,
    sun: str | Sun = Sun.MODERATE,
    smoker: bool = False,
) -> OutcomePatient:
    """Validate a patient profile; errors name the CLI option."""
    if isinstance(age, bool) or not isinstance(age, int) or not 16 <= age <= 110:
        raise InputError("--age", f"must be a whole number of years between 16 and 110, got {age}")
    if sex not in ("f", "m", "x"):
        raise InputError("--sex", f"must be f or m (or x), got {sex!r}")
    numerals = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI"}
    try:
        phototype = Phototype(numerals.get(str(fitzpatrick), str(fitzpatrick).upper()))
    except ValueError:
        raise InputError("--fitzpatrick", f"must be one of I..VI, got {fitzpatrick!r}") from None
    try:
        sun_level = Sun(str(sun).lower())
    except ValueError:
        raise InputError("--sun", f"must be low, moderate or high, got {sun!r}") from None
    return OutcomePatient(age, sex, phototype, sun_level, bool(smoker))


def make_treatment(
    modality: str,
    concern: str,
    device: str | None = None,
    depth_mm: float | None = None,
    tip: str | None = None,
) -> Treatment:
    """Fill in defaults and check the device's limits; errors name the CLI option."""
    if modality not in MODALITIES:
        raise InputError("--modality", f"must be one of {', '.join(MODALITIES)}, got {modality!r}")
    if concern not in CONCERNS:
        raise InputError("--concern", f"unknown concern {concern!r}; known: {', '.join(CONCERNS)}")
    device = device or DEFAULT_DEVICE[modality]
    spec = DEVICES.get(device)
    if spec is None or spec.modality != modality:
        known = ", ".join(name for name, s in DEVICES.items() if s.modality == modality)
        raise InputError("--device", f"{device!r} is not a {modality} device; known: {known}")
    if modality == "microdermabrasion":
        if depth_mm is not None:
            raise InputError(
                "--depth-mm", "does not apply to microdermabrasion (choose a device or --tip)"
            )
        if tip is not None and not spec.has_tip:
            raise InputError("--tip", f"applies to diamond_tip only, not {device}")
        if tip is not None and tip not in TIPS:
            raise InputError("--tip", f"must be fine, medium or coarse, got {tip!r}")
        if spec.has_tip:
            tip = tip or DEFAULT_TIP
        return Treatment(modality, concern, device, None, tip)
    if tip is not None:
        raise InputError("--tip", "applies to microdermabrasion diamond tips, not microneedling")
    if depth_mm is None:
        depth_mm = min(DEFAULT_DEPTH_MM, spec.max_depth_mm or DEFAULT_DEPTH_MM)
    depth = float(depth_mm)
    lo, hi = spec.min_depth_mm or 0.0, spec.max_depth_mm or 0.0
    if not math.isfinite(depth) or depth <= 0 or not lo <= depth <= hi:
        limits = f"between {lo:g} and {hi:g} mm" if lo > 0 else f"above 0 and at most {hi:g} mm"
        raise InputError("--depth-mm", f"must be {limits} for {device}, got {depth_mm}")
    return Treatment(modality, concern, device, depth, None)


def validate_sessions(days: Iterable[int], option: str = "--sessions") -> tuple[int, ...]:
    """Session days: whole days from day 0, at least one, strictly increasing."""
    given = tuple(days)
    if not given:
        raise InputError(option, "give at least one session day")
    for d in given:
        if isinstance(d, bool) or not isinstance(d, Integral):
            raise InputError(option, f"session days must be whole numbers, got {d!r}")
    out = tuple(int(d) for d in given)
    for d in out:
        if d < 0:
            raise InputError(option, f"session days count from day 0 and cannot be negative ({d})")
    for a, b in pairwise(out):
        if b <= a:
            raise InputError(option, f"session days must be in increasing order ({a} then {b})")
    return out


def validate_horizon(horizon_days: int, option: str = "--horizon-days") -> int:
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days <= 0:
        raise InputError(option, f"must be a positive number of days, got {horizon_days}")
    if horizon_days > 40 * 366:
        raise InputError(option, f"must be at most 40 years ({40 * 366} days), got {horizon_days}")
    return horizon_days
