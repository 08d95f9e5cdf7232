"""What the clinic tells the core about a patient: intake, skin assessment, and a session.

These are the inputs of screening, planning and aftercare. They are validated pydantic models so
a patient file, a web form and an API body are checked by the same rules, and an error names the
field (`intake.isotretinoin_last_dose`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dermis.core.errors import InputError

# Who the core plans for: older teenagers and adults up to a plausible age (a conservative
# convention, source `dermis_default`). One limit for every way in: patient file, form, API.
MIN_AGE = 16
MAX_AGE = 110


def age_on(date_of_birth: date, day: date) -> int:
    """Age in whole years on `day` (a birthday on 29 February counts from 1 March)."""
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - before_birthday


class Phototype(StrEnum):
    I = "I"  # noqa: E741 - Fitzpatrick's own numbering
    II = "II"
    III = "III"
    IV = "IV"
    V = "V"
    VI = "VI"

    @property
    def rank(self) -> int:
        return list(Phototype).index(self) + 1


class Glogau(StrEnum):
    I = "I"  # noqa: E741
    II = "II"
    III = "III"
    IV = "IV"


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


AreaId = Annotated[str, Field(min_length=1, max_length=40)]


class RecentProcedure(Input):
    kind: Literal["filler", "laser", "chemical_peel", "botulinum_toxin", "surgery"]
    date: date
    areas: list[AreaId] = Field(
        default_factory=list, description="treated areas; empty means all areas"
    )


class Intake(Input):
    """The screening questionnaire. Every question defaults to 'no'."""

    medical_history: list[str] = Field(default_factory=list)
    medications: list[str] = Field(default_factory=list)
    pregnant: bool = False
    breastfeeding: bool = False
    isotretinoin_last_dose: date | None = None
    anticoagulants: bool = False
    keloid_history: bool = False
    hypertrophic_scar_history: bool = False
    active_infection_areas: list[AreaId] = Field(default_factory=list)
    active_acne_areas: list[AreaId] = Field(default_factory=list)
    herpes_simplex_history: bool = False
    immunosuppressed: bool = False
    diabetes: Literal["none", "controlled", "uncontrolled"] = "none"
    metal_allergy: bool = False
    rosacea: bool = False
    telangiectasia: bool = False
    recent_procedures: list[RecentProcedure] = Field(default_factory=list)
    recent_tan_or_sunburn: date | None = Field(
        default=None, description="date of the most recent tan or sunburn on the treatment areas"
    )
    allergies: list[str] = Field(default_factory=list, description="free text, one per line")
    isotretinoin_current: bool = Field(
        default=False, description="taking a systemic retinoid (isotretinoin, acitretin) now"
    )
    active_herpes_areas: list[AreaId] = Field(
        default_factory=list, description="areas with an active cold sore (herpes simplex) now"
    )


class Patient(Input):
    name: str | None = Field(default=None, max_length=200)
    age: int = Field(ge=MIN_AGE, le=MAX_AGE)
    sex: Literal["f", "m", "x"] = "f"
    fitzpatrick: Phototype


class AreaConcern(Input):
    area: AreaId
    concern: str = Field(min_length=1, max_length=40)
    severity: float = Field(description="grade on the concern's named scale")


class Assessment(Input):
    glogau: Glogau | None = None
    skin_thickness: Literal["thin", "normal", "thick"] = "normal"
    concerns: list[AreaConcern] = Field(min_length=1)
    goals: list[str] = Field(default_factory=list)
    preferred_modality: Literal["microneedling", "microdermabrasion"] | None = None


class Session(Input):
    start: datetime
    duration_minutes: int = Field(default=60, ge=10, le=240)
    modality: Literal["microneedling", "microdermabrasion"]
    depth_mm: float | None = Field(default=None, gt=0, le=3.0)
    tip: Literal["fine", "medium", "coarse"] | None = None
    areas: list[AreaId] = Field(default_factory=list)


class PatientFile(Input):
    """The document `dermis screen|plan|aftercare` read (JSON or YAML); see docs/patient-file.md."""

    patient: Patient
    intake: Intake = Field(default_factory=Intake)
    assessment: Assessment | None = None
    session: Session | None = None
    as_of: date | None = Field(
        default=None, description="date screening is done for; defaults to today"
    )


def field_name(loc: tuple[int | str, ...]) -> str:
    """('intake', 'recent_procedures', 0, 'date') -> 'intake.recent_procedures[0].date'."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "(document)"


def input_error(exc: ValidationError, prefix: str = "") -> InputError:
    """Turn pydantic's first error into an InputError that names the field."""
    first = exc.errors()[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    name = field_name(loc)
    message = first["msg"]
    if first["type"].startswith(("date_", "datetime_")) and isinstance(first.get("input"), str):
        why = (first.get("ctx") or {}).get("error", "")
        message = f"'{first['input']}' is not a valid date" + (f" ({why})" if why else "")
    elif first["type"] == "extra_forbidden":
        message = "is not a known field"
    elif first["type"] == "missing":
        message = "is required"
    return InputError(f"{prefix}{name}", message[0].lower() + message[1:])


# Answers about past events older than this cannot change a screening decision (the longest
# window is 12 months); an older date is far more likely a typing mistake than a real answer.
RECENT_YEARS = 5


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def check_dates(patient: Patient, intake: Intake, as_of: date) -> None:
    """Refuse implausible intake dates, naming the field: in the future, before birth, or too old.

    Impossible dates (2026-02-30) never get this far: the models refuse them when parsing.
    """
    dated: list[tuple[str, date | None, str]] = [
        ("intake.isotretinoin_last_dose", intake.isotretinoin_last_dose, "the last dose"),
        ("intake.recent_tan_or_sunburn", intake.recent_tan_or_sunburn, "the tan or sunburn"),
    ]
    dated += [
        (f"intake.recent_procedures[{i}].date", p.date, f"the {p.kind.replace('_', ' ')}")
        for i, p in enumerate(intake.recent_procedures)
    ]
    born_after = _years_before(as_of, patient.age + 1)
    oldest = _years_before(as_of, RECENT_YEARS)
    for field, when, what in dated:
        if when is None:
            continue
        if when > as_of:
            raise InputError(
                field,
                f"{when} is after {as_of}, the date screened for: {what} cannot be in the future",
            )
        if when < born_after:
            raise InputError(
                field, f"{when} is before the patient was born (age {patient.age} on {as_of})"
            )
        if when < oldest:
            raise InputError(
                field,
                f"{when} is more than {RECENT_YEARS} years before {as_of}: this question is about "
                "recent events and so old a date cannot change the screening; leave it empty "
                "(or correct the year)",
            )
