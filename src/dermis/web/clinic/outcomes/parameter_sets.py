"""Which outcome-model parameter set a clinic forecasts with: its active refit, else the packaged.

Every forecast the clinic shows (the record page's chart and sentence, the API, the recall
worklist) asks `active_parameters(clinic)` and names the set's version; the forecast cache keys
include it, so a refit or a revert shows at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from dermis.core.outcome import OutcomeParameters, load_parameters
from dermis.web.clinic.models import Clinic, OutcomeParameterSet
from dermis.web.clinic.prepared import PreparedRows

_parsed: dict[tuple[int, str], OutcomeParameters] = {}
_lock = threading.Lock()


def packaged() -> OutcomeParameters:
    """The parameter set that ships with Dermis (the default of every clinic)."""
    return load_parameters()


def parameters_of(row: OutcomeParameterSet) -> OutcomeParameters:
    """A stored set as the core's parameters (validated once per process: sets never change)."""
    key = (row.pk, row.version)
    with _lock:
        found = _parsed.get(key)
    if found is None:
        found = OutcomeParameters.from_dict(row.data)
        with _lock:
            _parsed[key] = found
    return found


# Every forecast asks it: composed once per process (clinic/prepared.py).
ACTIVE_SET = PreparedRows(
    OutcomeParameterSet,
    lambda clinic: OutcomeParameterSet.objects.filter(clinic_id=clinic, active=True).order_by("pk"),
    clinic=int,
)


def active_set(clinic: Clinic | int) -> OutcomeParameterSet | None:
    """The clinic's active stored set, or None (the packaged set)."""
    clinic_id = clinic if isinstance(clinic, int) else clinic.pk
    found = ACTIVE_SET.rows(1, clinic=clinic_id)
    return found[0] if found else None


def active_parameters(clinic: Clinic | int) -> OutcomeParameters:
    """The parameters the clinic's forecasts use."""
    row = active_set(clinic)
    return parameters_of(row) if row is not None else packaged()


@dataclass(frozen=True)
class SetSummary:
    """One parameter set as the page and the API list it."""

    id: int | None  # None: the packaged set
    version: str
    base_version: str
    active: bool
    provenance: str
    follow_ups: int
    patients: int
    created_at: datetime | None
    created_by: str

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "version": self.version,
            "base_version": self.base_version,
            "active": self.active,
            "provenance": self.provenance,
            "follow_ups": self.follow_ups,
            "patients": self.patients,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


def parameter_sets(clinic: Clinic) -> list[SetSummary]:
    """The packaged set first, then the clinic's stored sets, newest first."""
    rows = list(clinic.outcome_parameter_sets.select_related("created_by"))
    base = packaged()
    out = [
        SetSummary(
            None,
            base.version,
            "",
            not any(r.active for r in rows),
            "packaged with Dermis: fitted to the published studies (docs/outcome-model.md)",
            0,
            0,
            None,
            "",
        )
    ]
    for r in rows:
        out.append(
            SetSummary(
                r.pk,
                r.version,
                r.base_version,
                r.active,
                r.provenance,
                r.follow_ups,
                r.patients,
                r.created_at,
                r.created_by.get_username() if r.created_by else "",
            )
        )
    return out
