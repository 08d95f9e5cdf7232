"""The knowledge base's schema. Code holds the mechanisms; these models say what numbers it needs.

Every rule carries `sources`: citation keys resolved in the bibliography (checked when loading).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Sources = Annotated[list[str], Field(min_length=1)]
PositiveMm = Annotated[float, Field(gt=0, le=5)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Severity(StrEnum):
    ABSOLUTE = "absolute"  # do not treat (this modality, these areas), possibly until a date
    RELATIVE = "relative"  # treat with a modification
    PRECAUTION = "precaution"  # treat, with the stated care


class Thickness(StrEnum):
    THIN = "thin"
    NORMAL = "normal"
    THICK = "thick"


PHOTOTYPES = ("I", "II", "III", "IV", "V", "VI")


class Range(Strict):
    min: float = Field(ge=0)
    max: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def clamp(self, value: float) -> float:
        return min(max(value, self.min), self.max)


class IntRange(Range):
    min: int = Field(ge=0)
    max: int = Field(ge=0)


class Reference(Strict):
    citation: str
    tag: Literal["T", "R", "C", "V", "D"]  # trial, review, consensus, vendor, Dermis default
    url: str | None = None
    note: str | None = None


class Modality(Strict):
    name: str
    description: str
    sources: Sources


class Tip(Strict):
    grit_um: int | None = None
    dermal_response: bool
    note: str | None = None


class Device(Strict):
    name: str
    modality: str
    kind: Literal["roller", "pen", "crystal", "diamond_tip"]
    setting: Literal["professional", "home"]
    depth_mm: Range | None = None  # microneedling devices only
    depth_step_mm: PositiveMm | None = None  # adjustable devices
    needle_lengths_mm: list[PositiveMm] | None = None  # fixed-length rollers
    needles: str | None = None
    tips: dict[str, Tip] | None = None
    needle_material: str | None = None  # as the maker states it, e.g. "surgical stainless steel"
    needle_metals: list[str] = []  # every metal in what touches the skin, for allergy checks
    sources: Sources

    @model_validator(mode="after")
    def _depth_for_needles(self) -> Self:
        if self.kind in ("roller", "pen") and self.depth_mm is None:
            raise ValueError("a microneedling device needs depth_mm")
        if self.kind == "pen" and self.depth_step_mm is None:
            raise ValueError("a pen needs depth_step_mm")
        if self.kind == "roller" and not self.needle_lengths_mm:
            raise ValueError("a roller needs needle_lengths_mm")
        if self.kind == "diamond_tip" and not self.tips:
            raise ValueError("a diamond-tip device needs tips")
        return self


class Area(Strict):
    name: str
    region: Literal["face", "body"]
    size_cm2: float | None = Field(default=None, gt=0)  # both sides together, an average adult


class Scale(Strict):
    name: str
    min: float
    max: float
    higher_is_worse: bool = True
    labels: dict[str, str] = {}
    none_at: float | None = None  # the grade that means "nothing to treat", when the scale has one
    sources: Sources


class Suitability(Strict):
    suitable: bool
    preference: int = Field(default=0, description="higher is tried first")
    reason: str
    sources: Sources


class Concern(Strict):
    name: str
    scale: str
    depth_profile: Literal["standard", "scar", "stretch_marks"]
    modalities: dict[str, Suitability]


class DepthLimit(Strict):
    thin: Range
    normal: Range
    thick: Range
    sources: Sources

    def for_thickness(self, thickness: Thickness | str) -> Range:
        return getattr(self, Thickness(thickness).value)


class Protocol(Strict):
    sessions: IntRange
    interval_days: IntRange
    maintenance_interval_days: IntRange
    session_minutes: IntRange
    sources: Sources


class PhototypeAdjustment(Strict):
    depth_position_factor: float = Field(gt=0, le=1)
    interval_position: float = Field(ge=0, le=1)
    microdermabrasion_tip: Literal["fine", "medium", "coarse"]
    sources: Sources


class DowntimeBand(Strict):
    up_to_depth_mm: float
    days: IntRange
    sources: Sources


class PassesRule(Strict):
    """Passes over each area by severity band, before cautions lower them."""

    by_band: dict[Literal["mild", "moderate", "severe"], int]
    sources: Sources


class VisitLimit(Strict):
    """How much skin one visit may treat (and numb): larger courses are split into visits."""

    max_area_cm2: float = Field(gt=0)
    anaesthetic_max_area_cm2: float | None = Field(default=None, gt=0)
    sources: Sources


class Adjustments(Strict):
    phototype: dict[Literal["I", "II", "III", "IV", "V", "VI"], PhototypeAdjustment]
    microneedling_downtime: list[DowntimeBand]
    microdermabrasion_downtime: DowntimeBand
    default_device: dict[str, str]
    default_tip: dict[str, str]  # concern severity band -> tip for phototypes without a cap
    microdermabrasion_passes: PassesRule | None = None
    per_visit: dict[str, VisitLimit] = {}  # by modality

    @model_validator(mode="after")
    def _all_phototypes(self) -> Self:
        missing = [p for p in PHOTOTYPES if p not in self.phototype]
        if missing:
            raise ValueError(f"phototype adjustments missing for {', '.join(missing)}")
        return self


class Serum(Strict):
    name: str
    use: str
    when: Literal["pre", "during", "post"]
    modalities: list[str]
    concerns: list[str] | Literal["all"] = "all"
    caution: str | None = None
    not_with: list[str] = []  # contraindication ids whose finding withholds this serum
    sources: Sources


class DepthWindow(Strict):
    up_to_depth_mm: float
    hours: float = Field(ge=0)


class AftercareRule(Strict):
    kind: Literal["care", "avoid", "expect", "warning"]
    text: str
    modalities: list[str]
    start_hours: float = Field(default=0, ge=0)
    hours: float | None = Field(default=None, ge=0)
    hours_by_depth: list[DepthWindow] | None = None  # microneedling: window grows with depth
    phototypes: list[str] | None = None  # only for these phototypes
    when: str | None = None  # only when this intake flag is set
    unless: list[str] = []  # never when any of these intake flags is set
    sources: Sources

    @model_validator(mode="after")
    def _one_window(self) -> Self:
        if self.kind in ("care", "avoid") and self.hours is None and not self.hours_by_depth:
            raise ValueError("a care or avoid rule needs hours or hours_by_depth")
        return self


class PrecareRule(Strict):
    text: str
    modalities: list[str]
    days_before: int = Field(ge=0)
    when: str | None = None  # intake flag that must be set for the rule to apply
    optional: bool = False  # advice the patient may skip: its lead time never holds a booking
    unless: list[str] = []  # never when any of these intake flags is set
    sources: Sources


class Condition(Strict):
    """What in the intake triggers a contraindication. The mechanisms live in screening.py."""

    kind: Literal[
        "flag",
        "choice",
        "date_within",
        "procedure_within",
        "areas",
        "phototype",
        "fact",
        "metal",
        "age_below",
    ]
    field: str | None = None
    equals: str | None = None
    procedure: str | None = None
    days: int | None = Field(default=None, gt=0)
    months: int | None = Field(default=None, gt=0)
    phototypes: list[str] | None = None
    scope: Literal["areas", "face"] = "areas"  # face: anywhere on the face means the whole face
    classes: list[str] | None = None  # fact: lexicon classes that trigger the rule
    past: bool = False  # fact: match facts the patient no longer has (e.g. a stopped medicine)
    scoped: bool = False  # fact: only the areas the text names (all areas when it names none)
    unless_field: str | None = None  # fact: not when this intake answer is given
    years: int | None = Field(default=None, gt=0)  # age_below

    @model_validator(mode="after")
    def _complete(self) -> Self:
        needs_field = self.kind in ("flag", "choice", "date_within", "areas")
        if needs_field and not self.field:
            raise ValueError(f"a '{self.kind}' condition needs field")
        if self.kind in ("date_within", "procedure_within") and not (self.days or self.months):
            raise ValueError(f"a '{self.kind}' condition needs days or months")
        if self.kind == "procedure_within" and not self.procedure:
            raise ValueError("a 'procedure_within' condition needs procedure")
        if self.kind == "choice" and self.equals is None:
            raise ValueError("a 'choice' condition needs equals")
        if self.kind == "phototype" and not self.phototypes:
            raise ValueError("a 'phototype' condition needs phototypes")
        if self.kind == "fact" and not self.classes:
            raise ValueError("a 'fact' condition needs classes")
        if self.kind == "age_below" and not self.years:
            raise ValueError("an 'age_below' condition needs years")
        return self


class Effect(Strict):
    severity: Severity
    action: str  # may use {until}, {depth_cap_mm}, {recognised}, {metal_advice}
    depth_cap_mm: PositiveMm | None = None
    tip_cap: Literal["fine", "medium", "coarse"] | None = None  # microdermabrasion
    passes_max: int | None = Field(default=None, ge=1)  # microdermabrasion
    interval_min_days: int | None = Field(default=None, ge=1)
    avoid_metals: list[str] = []  # needles must contain none of these


class Contraindication(Strict):
    name: str
    reason: str
    condition: Condition
    effects: dict[str, Effect]  # by modality
    sources: Sources


class LexiconClass(Strict):
    """A class of medicines, conditions or allergens that screening rules act on."""

    kind: Literal["medicine", "condition", "allergen"]
    label: str
    sets: dict[str, bool | str] = {}  # intake answers a recognised fact of this class gives
    past_counts: bool = False  # a past fact still counts (a skin cancer treated years ago)
    sources: Sources


class LexiconEntry(Strict):
    """One medicine, condition or allergen: its id is the generic name, in lower case."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    class_id: str = Field(alias="class")
    variants: list[str] = []  # other spellings, abbreviations and synonyms
    brands: list[str] = []
    sets: dict[str, bool | str] | None = None  # replaces the class's `sets`


class Lexicon(Strict):
    """What free text is read for. Names are matched ignoring case, accents and punctuation."""

    classes: dict[str, LexiconClass] = {}
    medicines: dict[str, LexiconEntry] = {}
    conditions: dict[str, LexiconEntry] = {}
    allergens: dict[str, LexiconEntry] = {}
    area_words: dict[str, list[str]] = {}  # area id (or "face") -> words naming it
    negation_words: list[str] = []
    past_words: list[str] = []
    allergy_words: list[str] = []
    nothing_words: list[str] = []  # a line saying only "none", "nil", "n/a"


class KnowledgeBase(Strict):
    version: str
    bibliography: dict[str, Reference]
    modalities: dict[str, Modality]
    devices: dict[str, Device]
    areas: dict[str, Area]
    scales: dict[str, Scale]
    concerns: dict[str, Concern]
    depth_limits: dict[str, dict[str, DepthLimit]]  # area -> depth profile -> limits
    protocols: dict[str, dict[str, Protocol]]  # modality -> concern -> protocol
    adjustments: Adjustments
    serums: dict[str, Serum]
    aftercare: dict[str, AftercareRule]
    precare: dict[str, PrecareRule]
    contraindications: dict[str, Contraindication]
    lexicon: Lexicon = Lexicon()
