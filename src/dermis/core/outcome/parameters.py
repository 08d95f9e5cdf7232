"""The outcome model's parameters: a YAML file, validated on load, one source on every number.

Each parameter is either sourced (`citation`: a key of the evidence digest), fitted
(`calibrated_to`: the calibration target ids of `dermis.core.outcome.targets`, with fit `bounds`)
or refitted from a clinic's own follow-ups (`basis: clinic`). A parameter set carries a `version`
that every forecast names ("packaged-2026.2"; a clinic's refit "clinic-<date>-<hash>").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from dermis.core import yaml_text
from dermis.core.errors import KnowledgeError
from dermis.core.outcome.inputs import CONCERNS

# Keys of the evidence digest (shared/domain/evidence.md) plus `seeds_permanence` (the source
# texts' timeline), `md_practice` (clinic protocol pages, §3), `healing_phases` (§4),
# `collagen_decline_consensus` (the un-keyed [C] statements of §7: ~1 %/yr, menopause) and
# `literature_shapes` (the shapes the acne-scar and photoaging literature agree on, §11).
KNOWN_CITATIONS = frozenset(
    {
        "harris2015",
        "doddaballapur2009",
        "chu2021",
        "alster2018",
        "drpen",
        "aust2008",
        "alster2020",
        "majid2009",
        "lotfi2013",
        "fabbrocini2009",
        "eldomyati2015",
        "mohamedali2017",
        "dalwig2020",
        "alqam2022",
        "tan2001",
        "literature_shapes",
        "karimipour2005",
        "karimipour2009",
        "freedman2001",
        "shim2001",
        "gupta2011",
        "varani2006",
        "reilly2021",
        "cohen2016",
        "seeds_permanence",
        "md_practice",
        "healing_phases",
        "collagen_decline_consensus",
    }
)

Basis = Literal["measured", "consensus", "vendor", "assumption", "convention", "fitted", "clinic"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Param(_Strict):
    value: float
    unit: str = "1"
    basis: Basis
    citation: str | None = None
    calibrated_to: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _sourced(self) -> Param:
        if self.basis == "fitted":
            if not self.calibrated_to:
                raise ValueError(
                    "a fitted parameter names the calibration targets it was fitted to"
                )
            if self.bounds is None or not self.bounds[0] < self.bounds[1]:
                raise ValueError("a fitted parameter needs bounds (low < high)")
            if not self.bounds[0] <= self.value <= self.bounds[1]:
                raise ValueError(f"value {self.value} is outside its bounds {self.bounds}")
        elif self.citation is None and self.basis != "clinic":
            raise ValueError("needs a citation (or basis: fitted with calibrated_to)")
        if self.citation is not None and self.citation not in KNOWN_CITATIONS:
            raise ValueError(f"unknown citation key {self.citation!r}")
        return self


class ReferencePatient(_Strict):
    age: int
    sex: Literal["f", "m", "x"]
    fitzpatrick: Literal["I", "II", "III", "IV", "V", "VI"]
    sun: Literal["low", "moderate", "high"]
    smoker: bool


class Kinetics(_Strict):
    inflammation_rate: Param
    maturation_rate: Param
    turnover_rate: Param
    immature_visibility: Param
    epidermal_rate: Param
    depth_slowing_exponent: Param


class Dose(_Strict):
    reference_depth_mm: Param
    depth_exponent: Param
    capacity: Param
    age_response_slope: Param
    microneedling_device: dict[Literal["dermaroller", "automated_pen", "home_roller"], Param]
    microdermabrasion_collagen: Param
    microdermabrasion_device: dict[
        Literal[
            "crystal", "diamond_tip_coarse", "diamond_tip_medium", "diamond_tip_fine", "home_kit"
        ],
        Param,
    ]
    microdermabrasion_equivalent_depth_mm: Param
    epidermal_dose: dict[Literal["microneedling", "microdermabrasion"], Param]
    home_device_epidermal_factor: Param


class Ageing(_Strict):
    base_rate: Param
    sun: dict[Literal["low", "moderate", "high"], Param]
    phototype_sun_weight: dict[Literal["I", "II", "III", "IV", "V", "VI"], Param]
    smoker: Param
    lifestyle_turnover_exponent: Param
    menopause_age: Param
    menopause_age_sd: Param
    menopause_years: Param
    menopause_factor: Param
    post_menopause_factor: Param


class Variability(_Strict):
    """Between-patient spread (log-normal, median 1)."""

    response_sd_log: Param
    maturation_sd_log: Param
    visibility_sd_logit: Param
    turnover_sd_log: Param
    ageing_sd_log: Param


class Uncertainty(_Strict):
    """Parameter uncertainty: how far the population values themselves may be off (log-sd)."""

    turnover_sd_log: Param
    maturation_sd_log: Param
    ageing_sd_log: Param
    microdermabrasion_sd_log: Param


class Concern(_Strict):
    efficacy: Param
    efficacy_sd_log: Param
    epidermal_weight: Param
    ageing_sensitivity: Param
    turnover_multiplier: Param
    maturation_multiplier: Param


class FollowUpNoise(_Strict):
    rater_sd_pct: Param
    oedema_days: Param


class OutcomeParameters(_Strict):
    schema_version: Literal[2]
    version: str
    provenance: dict[str, Any] | None = None
    reference_patient: ReferencePatient
    noticeable_threshold_pct: Param
    visible_ceiling_pct: Param
    collagen_efficacy: Param
    epidermal_efficacy: Param
    kinetics: Kinetics
    dose: Dose
    ageing: Ageing
    variability: Variability
    uncertainty: Uncertainty
    concerns: dict[str, Concern]
    follow_up: FollowUpNoise

    @model_validator(mode="after")
    def _complete(self) -> OutcomeParameters:
        missing = set(CONCERNS) - set(self.concerns)
        extra = set(self.concerns) - set(CONCERNS)
        if missing or extra:
            raise ValueError(f"concerns: missing {sorted(missing)}, unknown {sorted(extra)}")
        if not _VERSION.fullmatch(self.version):
            raise ValueError(f"version {self.version!r}: letters, digits and . _ - only, 1-64")
        return self

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict (what the web stores); `from_dict` reads it back."""
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutcomeParameters:
        return parse_parameters(data, f"<parameter set {data.get('version', '?')}>")


ParameterSet = OutcomeParameters
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


DEFAULT_PATH = Path(str(files("dermis.core.outcome").joinpath("parameters.yaml")))
_DEVICE_TABLES = {
    "dose.microneedling_device": 3,
    "dose.microdermabrasion_device": 5,
    "dose.epidermal_dose": 2,
    "ageing.sun": 3,
    "ageing.phototype_sun_weight": 6,
}


def _check_tables(raw: Mapping[str, Any], path: str) -> None:
    for dotted, size in _DEVICE_TABLES.items():
        section, table = dotted.split(".")
        entries = raw.get(section, {}).get(table, {})
        if len(entries) != size:
            raise KnowledgeError(path, dotted, f"needs {size} entries, has {len(entries)}")


def parse_parameters(raw: Mapping[str, Any], path: str = "<dict>") -> OutcomeParameters:
    """Validate a parsed parameter document; errors name the key."""
    if not isinstance(raw, Mapping):
        raise KnowledgeError(path, "(document)", "must be a mapping")
    _check_tables(raw, path)
    try:
        return OutcomeParameters.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise KnowledgeError(path, key, first["msg"]) from None


def load_parameters(path: str | Path | None = None) -> OutcomeParameters:
    """Load and validate a parameter file (the packaged one by default)."""
    if path is None:
        return _default_parameters()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_parameters() -> OutcomeParameters:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> OutcomeParameters:
    try:
        raw = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(str(path), "(document)", str(exc)) from None
    return parse_parameters(raw, str(path))


def iter_params(params: OutcomeParameters) -> Iterator[tuple[str, Param]]:
    """Every parameter with its dotted name, in file order."""

    def walk(node: Any, prefix: str) -> Iterator[tuple[str, Param]]:
        if isinstance(node, Param):
            yield prefix, node
        elif isinstance(node, BaseModel):
            for name in type(node).model_fields:
                yield from walk(getattr(node, name), f"{prefix}.{name}" if prefix else name)
        elif isinstance(node, dict):
            for key, child in node.items():
                yield from walk(child, f"{prefix}.{key}")

    yield from walk(params, "")


def get_param(params: OutcomeParameters, dotted: str) -> Param:
    for name, param in iter_params(params):
        if name == dotted:
            return param
    raise KeyError(dotted)


def with_values(
    params: OutcomeParameters,
    values: Mapping[str, float],
    changes: Mapping[str, Mapping[str, Any]] | None = None,
    **top: Any,
) -> OutcomeParameters:
    """A copy with some parameter values replaced (by dotted name); validated again.

    `changes` replaces other fields of a parameter (basis, note, ...); `top` top-level fields
    (version, provenance).
    """
    raw = params.model_dump(mode="python")
    edits = {k: {"value": float(v)} for k, v in values.items()}
    for dotted, fields in (changes or {}).items():
        edits.setdefault(dotted, {}).update(fields)
    for dotted, fields in edits.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        if leaf not in node:
            raise KeyError(dotted)
        node[leaf].update(fields)
    raw.update(top)
    return parse_parameters(raw)


def rewrite_values(text: str, values: Mapping[str, float]) -> str:
    """The YAML text with the `value` of some parameters replaced, everything else kept as is.

    Understands the file's two styles: a block `value:` line under the parameter's key, and a
    one-line `{value: ..., ...}` mapping.
    """
    key_line = re.compile(r"^(\s*)([A-Za-z_][\w]*):(.*)$")
    stack: list[tuple[int, str]] = []
    scalar_indent: int | None = None  # inside a folded/literal block scalar
    done: set[str] = set()
    out = []
    for line in text.splitlines(keepends=True):
        indent = len(line) - len(line.lstrip(" "))
        if scalar_indent is not None and (not line.strip() or indent > scalar_indent):
            out.append(line)
            continue
        scalar_indent = None
        m = key_line.match(line)
        if not m or line.lstrip().startswith("#"):
            out.append(line)
            continue
        key, rest = m.group(2), m.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        parent = ".".join(k for _, k in stack)
        if key == "value" and parent in values:
            line = f"{m.group(1)}value: {_number(values[parent])}\n"
            done.add(parent)
        elif path in values and rest.strip().startswith("{"):
            line = re.sub(r"value: [^,}]+", f"value: {_number(values[path])}", line, count=1)
            done.add(path)
        if rest.strip() in (">-", ">", "|", "|-"):
            scalar_indent = indent
        stack.append((indent, key))
        out.append(line)
    missing = set(values) - done
    if missing:
        raise KeyError(f"not found in the file: {sorted(missing)}")
    return "".join(out)


def _number(value: float) -> str:
    return f"{value:.6g}"
