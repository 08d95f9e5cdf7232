"""A forecast: quantile bands of improvement over days, and the landmarks a clinic reads off it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dermis.core.outcome.kinetics import F64

PATIENT_SENTENCE = (
    "This is a planning estimate, not a promise: most patients fall between the low and high "
    "curves, and your own result may differ."
)


@dataclass(frozen=True, eq=False)
class Forecast:
    """Improvement in percent of pre-treatment severity, p10/p50/p90 over the Monte Carlo draws."""

    days: NDArray[np.int64]
    p10: F64
    p50: F64
    p90: F64
    noticeable_threshold: float
    sessions: tuple[int, ...]
    n_draws: int
    effective_draws: float
    parameter_set: str = "packaged"
    notes: tuple[str, ...] = ()

    @property
    def statement(self) -> str:
        """The patient sentence, naming the parameter set the forecast comes from."""
        return f"{PATIENT_SENTENCE} (Outcome model parameters: {self.parameter_set}.)"

    @property
    def peak_day(self) -> int:
        """The day the median improvement is highest (the first such day)."""
        return int(self.days[int(np.argmax(self.p50))])

    @property
    def noticeable_until_day(self) -> int | None:
        """The last day the median improvement is at or above the noticeable threshold."""
        above = np.nonzero(self.p50 >= self.noticeable_threshold)[0]
        return int(self.days[above[-1]]) if above.size else None

    def at(self, day: int) -> tuple[float, float, float]:
        i = int(np.searchsorted(self.days, day))
        if i >= self.days.size or self.days[i] != day:
            raise KeyError(day)
        return float(self.p10[i]), float(self.p50[i]), float(self.p90[i])

    def to_dict(self) -> dict[str, Any]:
        """The `dermis forecast --json` contract."""

        def rounded(a: F64) -> list[float]:
            return [round(float(x), 2) for x in a]

        return {
            "days": [int(d) for d in self.days],
            "improvement": {
                "p10": rounded(self.p10),
                "p50": rounded(self.p50),
                "p90": rounded(self.p90),
            },
            "noticeable_threshold": self.noticeable_threshold,
            "peak_day": self.peak_day,
            "noticeable_until_day": self.noticeable_until_day,
            "sessions": list(self.sessions),
            "draws": self.n_draws,
            "effective_draws": round(self.effective_draws, 1),
            "statement": self.statement,
            "parameter_set": self.parameter_set,
            "notes": list(self.notes),
        }
