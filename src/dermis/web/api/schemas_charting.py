"""Bodies of the charting API: a session's chart (create / change), finalising, addenda, photos."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from dermis.web.api.schemas import Finite, Id, In, Moment, Out, Text

Tip = Literal["fine", "medium", "coarse"]
Endpoint = Literal["none", "erythema", "pinpoint_bleeding"]


class ChartedAreaIn(In):
    area: Text(40, 1) = Field(description="knowledge-base area id")
    depth_mm: Finite | None = Field(None, gt=0, le=3, description="microneedling: needle depth")
    tip: Tip | None = Field(None, description="microdermabrasion: the tip's strength")
    passes: int = Field(1, ge=1, le=20)


class ChartFields(In):
    duration_minutes: int = Field(60, ge=10, le=240)
    cartridge: Text(100) = Field("", description="needle cartridge or tip; required to finalise")
    lot_number: Text(60) = Field("", description="required to finalise")
    serum: Text(200) = ""
    numbing: Text(200) = ""
    endpoint: Endpoint = "none"
    immediate_reactions: Text(5000) = ""
    notes: Text(5000) = ""
    precare_done: bool = Field(False, description="the practitioner records pre-care was done")
    override_reason: Text(1000) = Field(
        "", description="a written reason to go ahead despite a relative, dated finding"
    )


class SessionIn(ChartFields):
    modality: Literal["microneedling", "microdermabrasion"]
    device: Text(40, 1) = Field(description="knowledge-base device id")
    performed_at: Moment = Field(description="when it was done; not in the future")
    areas: list[ChartedAreaIn] = Field(default_factory=list, max_length=40)
    plan_id: Id | None = Field(None, description="default: the active plan, if it has the course")
    appointment_id: Id | None = None


class SessionPatch(In):
    """Only the fields sent change; `areas`, when sent, replaces every charted area."""

    device: Text(40, 1) | None = None
    performed_at: Moment | None = None
    duration_minutes: int | None = Field(None, ge=10, le=240)
    cartridge: Text(100) | None = None
    lot_number: Text(60) | None = None
    serum: Text(200) | None = None
    numbing: Text(200) | None = None
    endpoint: Endpoint | None = None
    immediate_reactions: Text(5000) | None = None
    notes: Text(5000) | None = None
    areas: list[ChartedAreaIn] | None = Field(None, max_length=40)
    precare_done: bool = False
    override_reason: Text(1000) = ""


class RecheckIn(In):
    """The chair-side "anything changed since the screening?" check."""

    changed: bool
    answers: dict[Text(40, 1), bool] = Field(default_factory=dict, max_length=20)
    note: Text(2000) = ""


class FinaliseIn(In):
    version: Text(64, 1) = Field(
        description="the draft's `version` as you read it; 409 when it has changed since"
    )
    precare_done: bool = False
    override_reason: Text(1000) = ""
    recheck: RecheckIn | None = Field(
        None, description="record the chair-side check first (asked for an old screening)"
    )


class AddendumIn(In):
    text: Text(5000, 1)


class AddendumCreated(Out):
    id: int
    session_id: int
    created_at: datetime
    author: str
    text: str


class PhotoOut(Out):
    id: int
    patient_id: int
    session_id: int | None
    area: str
    stage: str
    taken_on: date
    content_type: str
    width: int
    height: int
    size_bytes: int
    sha256: str
