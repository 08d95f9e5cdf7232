"""Request and response bodies, one schema per purpose (create / update / public).

Text fields refuse NUL characters and lone surrogates, which PostgreSQL cannot store; ids and
dates are bounded so that no value a client can send overflows the database.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Path, Schema
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

MAX_ID = 2**53  # larger ids cannot exist here, and SQLite integers stop at 2**63
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _clean_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("is not a valid email address") from None
    return value


def _in_range(value: date | datetime) -> date | datetime:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_only(pattern: re.Pattern, shape: str):
    """Refuse what pydantic would otherwise read as a Unix time (`0`, `1700000000`)."""

    def check(value: object) -> object:
        if isinstance(value, date | datetime):
            return value
        if not isinstance(value, str) or not pattern.match(value.strip()):
            raise ValueError(f"must be an ISO 8601 {shape}")
        return value.strip()

    return BeforeValidator(check)


def Text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_clean_text)
    ]


Email = Annotated[str, Field(max_length=254), AfterValidator(_clean_text), AfterValidator(_email)]
_RANGE = f"between {EARLIEST} and {LATEST}"
Day = Annotated[
    date,
    _iso_only(ISO_DAY, "date (YYYY-MM-DD)"),
    AfterValidator(_in_range),
    Field(json_schema_extra={"x-range": _RANGE, "pattern": ISO_DAY.pattern}),
]
# A date of birth: ISO only; how old it may be is the patients service's rule (one message for
# the page and the API).
BirthDate = Annotated[date, _iso_only(ISO_DAY, "date (YYYY-MM-DD)")]
Moment = Annotated[
    datetime,
    _iso_only(ISO_MOMENT, "date and time (YYYY-MM-DDTHH:MM)"),
    AfterValidator(_in_range),
    Field(json_schema_extra={"x-range": _RANGE}),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Path[int, {"ge": 1, "le": MAX_ID}]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)]
Sex = Literal["f", "m", "x"]
Phototype = Literal["I", "II", "III", "IV", "V", "VI"]

T = TypeVar("T")


class In(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    """A response body, checked by pydantic itself from what a router returns (dicts, or objects
    by their attributes). ninja's `Schema` first wraps every record in a getter of its own, which
    made a page of fifty patients take ten times as long to check (about 1 ms against 0.1); no
    response here needs what that getter adds (resolvers, managers, files, dotted names)."""

    model_config = ConfigDict(from_attributes=True)


class FieldError(Out):
    field: str
    message: str
    possible_from: date | None = Field(
        None, description="a safety refusal: the first day the act becomes possible"
    )


class Problem(Out):
    """RFC 9457 problem details, with the fields that were wrong."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] = []


class Page(Out, Generic[T]):
    count: int = Field(description="matching records in all pages")
    limit: int
    offset: int
    items: list[T]


class PageQuery(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


# --- Patients -----------------------------------------------------------------------------


class PatientQuery(PageQuery):
    q: Text(100) | None = Field(None, description="part of a name, the email or the phone")
    date_of_birth: Day | None = None


class PatientIn(In):
    given_name: Text(100, 1)
    family_name: Text(100, 1)
    date_of_birth: BirthDate = Field(
        description="checked by the patients service: not in the future, not over 120 years ago"
    )
    sex: Sex = "f"
    fitzpatrick: Phototype | None = Field(None, description="clinical roles only")
    phone: Text(40) = ""
    email: Email = ""
    address: Text(300) = ""
    email_reminders: bool = True
    sms_reminders: bool = True
    confirm_not_duplicate: bool = Field(
        False,
        description="register even though the clinic has a patient with the same name and date "
        "of birth, email or phone (otherwise 409 with the candidates' ids)",
    )


class PatientPatch(In):
    given_name: Text(100, 1) | None = None
    family_name: Text(100, 1) | None = None
    date_of_birth: BirthDate | None = None
    sex: Sex | None = None
    fitzpatrick: Phototype | None = Field(None, description="clinical roles only")
    phone: Text(40) | None = None
    email: Email | None = None
    address: Text(300) | None = None
    email_reminders: bool | None = None
    sms_reminders: bool | None = None


class PatientMergeIn(In):
    merge_away_id: int = Field(
        ge=1, description="the duplicate; it is merged into the record in the path"
    )


class PatientMergeOut(Out):
    kept_id: int
    merged_id: int
    moved: dict[str, int] = Field(description="how many records of each kind moved")
    filled_in: list[str] = Field(description="contact fields filled from the duplicate")


class PatientOut(Out):
    id: int
    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    fitzpatrick: str | None = Field(description="null when unset, and always for front desk")
    phone: str
    email: str
    address: str
    email_reminders: bool
    sms_reminders: bool
    created_at: datetime


# --- Consultations, plans, sessions, grades -----------------------------------------------


class ConsultationSummary(Out):
    id: int
    patient_id: int
    practitioner_id: int | None
    created_at: datetime
    as_of: date
    status: str
    knowledge_version: str
    plan_status: str | None = Field(description="the proposal's status: ok, partial, not_safe")


class ConsultationOut(ConsultationSummary):
    intake: dict
    assessment: dict
    screening: dict
    proposal: dict
    recognition: dict = Field(
        description="facts read from the free text (each with `recognised_from`), the lines not "
        "recognised, and `pending`: facts a practitioner has not confirmed yet"
    )


class PlanOut(Out):
    id: int
    patient_id: int
    consultation_id: int
    consent_id: int | None
    version: int
    previous_id: int | None
    status: str
    content: dict
    adjustments: list
    note: str
    created_at: datetime


class PlanChangeIn(In):
    """One setting changed from the proposal (or the plan being revised), inside safe bounds."""

    course: int = Field(ge=0, le=20, description="index of the course in the plan")
    what: Literal["sessions", "interval_days", "depth_mm", "tip"]
    value: int | float | str
    treatment: int | None = Field(
        None, ge=0, le=50, description="index of the treatment (depth_mm, tip)"
    )
    reason: Text(500) = Field("", description="why, when the value leaves the planner's choice")


class AcceptIn(In):
    """Accept the proposal as plan version N+1 with the patient's consent. A body of just
    `signer_name` (the patient's full name) accepts it unchanged with the current consent text
    as a typed-name signature."""

    signer_name: Text(200, 1)
    consent_version: Text(80) | None = Field(
        None, description="the consent text version shown (default: the current one)"
    )
    signature_png: Text(400_000) | None = Field(
        None, description="a drawn signature as a data:image/png;base64 URL (default: typed)"
    )
    adjustments: list[PlanChangeIn] = Field(default_factory=list, max_length=100)


class ReviseIn(In):
    changes: list[PlanChangeIn] = Field(min_length=1, max_length=100)
    note: Text(2000) = ""


class SessionAreaOut(Out):
    area: str
    depth_mm: float | None
    tip: str
    passes: int


class AddendumOut(Out):
    created_at: datetime
    author: str
    text: str


class SessionOut(Out):
    id: int
    patient_id: int
    plan_id: int | None
    appointment_id: int | None
    practitioner_id: int
    performed_at: datetime
    duration_minutes: int
    modality: str
    device: str
    cartridge: str
    lot_number: str
    serum: str
    numbing: str
    endpoint: str
    immediate_reactions: str
    notes: str
    status: str
    finalised_at: datetime | None
    content_sha256: str
    version: str | None = Field(description="a draft's version: send it back when finalising")
    seal_algorithm: str | None = Field(
        description="hmac-sha256 (keyed seal); null for a draft or a record signed before seals"
    )
    areas: list[SessionAreaOut]
    addenda: list[AddendumOut]


class GradeIn(In):
    area: Text(40, 1)
    concern: Text(40, 1)
    grade: Finite = Field(description="on the concern's named scale (knowledge base)")
    baseline: Finite | None = None
    graded_on: Day | None = Field(None, description="default today")
    plan_id: Id | None = None
    notes: Text(2000) = ""


class GradeOut(Out):
    id: int
    patient_id: int
    plan_id: int | None
    area: str
    concern: str
    scale: str | None
    grade: float
    baseline: float | None
    graded_on: date
    notes: str


# --- Appointments, staff, directory --------------------------------------------------------

Kind = Literal["consultation", "treatment", "follow_up", "maintenance"]
AppointmentStatus = Literal[
    "booked", "confirmed", "arrived", "in_treatment", "completed", "cancelled", "no_show"
]


class AppointmentQuery(PageQuery):
    date_from: Day | None = Field(None, description="first day (clinic time), inclusive")
    date_to: Day | None = Field(None, description="last day (clinic time), inclusive")
    patient_id: Id | None = None
    practitioner_id: Id | None = None
    status: AppointmentStatus | None = None


class AppointmentIn(In):
    patient_id: Id
    practitioner_id: Id
    start: Moment = Field(description="ISO 8601; without an offset it is clinic time")
    end: Moment
    kind: Kind = "treatment"
    location_id: Id | None = None
    room_id: Id | None = None
    equipment_id: Id | None = None
    plan_id: Id | None = None
    modality: Literal["", "microneedling", "microdermabrasion"] = Field(
        "", description="a treatment's modality; without it, the accepted plan's"
    )
    notes: Text(300) = Field("", description="front-desk note, not clinical")
    precare_done: bool = Field(False, description="a practitioner records pre-care was done")
    override_reason: Text(2000) = Field(
        "", description="a practitioner's reason to go ahead despite a relative finding"
    )


class AppointmentMove(In):
    start: Moment = Field(description="ISO 8601; without an offset it is clinic time")
    end: Moment | None = Field(None, description="default: the same length as before")
    precare_done: bool = False
    override_reason: Text(2000) = ""


class AppointmentCancel(In):
    reason: Text(300) = ""


class AppointmentStatusIn(In):
    status: AppointmentStatus
    reason: Text(200) = Field("", description="why it is cancelled (needed to cancel)")


class AppointmentOut(Out):
    id: int
    status: AppointmentStatus
    cancel_reason: str = ""
    late_cancel: bool = False
    patient_id: int
    practitioner_id: int
    location_id: int | None
    room_id: int | None
    equipment_id: int | None
    plan_id: int | None
    kind: str
    start: datetime
    end: datetime
    notes: str
    series_index: int | None
    modality: str = Field(description="a treatment's modality ('' when not known)")
    provisional: bool = Field(description="a treatment booked before any plan was accepted")
    safety_flag: str = Field(description="why the safety gate now refuses it ('' when safe)")


class LocationOut(Out):
    name: str
    address: str
    town: str
    postcode: str


class StaffOut(Out):
    id: int
    display_name: str
    role: str
    credentials: str
    treatments: list[str]
    listed_in_directory: bool
    locations: list[LocationOut]


class ClinicOut(Out):
    name: str
    town: str
    postcode: str
    phone: str
    email: str
    website: str


class DirectoryEntry(Out):
    id: int
    display_name: str
    credentials: str
    treatments: list[str]
    bio: str
    clinic: ClinicOut
    locations: list[LocationOut]


class DirectoryQuery(Schema):
    treatment: Literal["microneedling", "microdermabrasion"] | None = None
    where: Text(60) | None = Field(None, description="a town or a postcode (LS1, LS1 4AP)")
