"""What a screening finding means, in plain words for the patient. No citation keys, no clinical
shorthand: the practitioner's record keeps the full reason and its sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dermis.core.screening import Finding, Screening

TREATMENT_NAMES = {"microneedling": "microneedling", "microdermabrasion": "microdermabrasion"}

# rule id -> why, as a patient would read it
WHY = {
    "isotretinoin": (
        "You have taken isotretinoin (Roaccutane) recently. It makes skin heal more slowly, "
        "so clinics wait 6 months after the last dose before this treatment."
    ),
    "systemic_retinoid_current": (
        "You are taking a retinoid tablet now (such as Roaccutane). Skin heals more slowly while "
        "you take it and for 6 months after."
    ),
    "systemic_retinoid_stopped_undated": (
        "You mentioned a retinoid tablet you have stopped. The clinic needs the date of your "
        "last dose to know when treatment is safe."
    ),
    "pregnancy": "There is no safety information for this treatment during pregnancy.",
    "guardian_consent": ("Under 18, treatment needs the written consent of a parent or guardian."),
    "keloid": "You have had keloid scars. Needling can cause new raised scars.",
    "active_infection": "A skin infection needs to clear before the skin is treated.",
    "active_herpes": "A cold sore needs to heal completely before the skin is treated.",
    "immunosuppression": "A weakened immune system makes infection after treatment more likely.",
    "diabetes_uncontrolled": (
        "Diabetes that is not well controlled slows healing and makes infection more likely."
    ),
    "bleeding_disorder": "A bleeding problem makes bleeding and bruising more likely.",
    "anticoagulants": "Blood thinners make bleeding and bruising more likely.",
    "skin_cancer": "An area with skin cancer must not be treated.",
    "recent_tan": "Tanned or sunburnt skin is more likely to get dark patches after treatment.",
    "metal_allergy": "You are allergic to a metal that treatment needles can contain.",
}


@dataclass(frozen=True)
class Outcome:
    """What the answers mean for the treatment asked about."""

    treatment: str
    ruled_out: tuple[tuple[str, date | None], ...]  # (why, until) for each absolute finding
    adjusted: bool  # a milder finding: the practitioner adapts the treatment

    @property
    def until(self) -> date | None:
        """The first day every dated refusal has ended (None: some refusal has no end date)."""
        if not self.ruled_out or any(u is None for _, u in self.ruled_out):
            return None
        return max(u for _, u in self.ruled_out)

    @property
    def undated(self) -> bool:
        return any(u is None for _, u in self.ruled_out)


def why(finding: Finding) -> str:
    return WHY.get(finding.rule) or (
        f"Your answers mention {finding.name.lower()}. The practitioner will talk this through "
        "with you."
    )


def outcome(screening: Screening, modality: str) -> Outcome | None:
    if not modality:
        return None
    found = screening.for_modality(modality)
    absolute = [f for f in found if f.severity.value == "absolute"]
    return Outcome(
        treatment=TREATMENT_NAMES.get(modality, modality),
        ruled_out=tuple((why(f), f.until) for f in absolute),
        adjusted=any(f.severity.value != "absolute" for f in found),
    )
