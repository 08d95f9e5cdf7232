"""The health questions: each asked once, in the practitioner's words and in the patient's.

The clinic's consultation form and the patient's portal are both built from `QUESTIONS`, and both
turn their answers into the screening's inputs (the fields of `patient.Intake`) through
`screening_inputs`, so a question added here is asked by both and screened the same way.

A question either is a screening input (`screens`) or, asked of the patient only, leads in to
others: "Do you take any medicines?" asks "Which?" only on a yes, and "Have you ever taken
isotretinoin?" answers whether they take it now and asks for the last dose. A follow-up whose
question was answered so as not to ask it counts as unanswered, whatever its box holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Kind = Literal["yes_no", "choice", "date", "lines", "areas"]
Audience = Literal["clinic", "patient"]


@dataclass(frozen=True)
class Choice:
    value: str
    clinic: str
    patient: str
    sets: Mapping[str, object] = field(default_factory=dict)  # screening inputs it answers


@dataclass(frozen=True)
class Question:
    name: str  # the form field's name
    kind: Kind
    clinic: str | None  # the practitioner's wording; None: the clinic form does not ask it
    patient: str | None  # the patient's plain wording; None: seen or recorded in the clinic
    section: str  # where the clinic form groups it
    screens: str | None = None  # the Intake field its answer is
    clinic_help: str = ""
    patient_help: str = ""
    choices: tuple[Choice, ...] = ()
    follows: str | None = None  # the question it follows up (as the patient is asked)
    asked_when: tuple[object, ...] = ()  # answers of that question that ask this one
    needed_when: tuple[object, ...] = ()  # answers of that question that need this one
    needed_message: str = ""  # to the patient, when it is needed and left empty
    rows: int = 3  # for `lines`

    def wording(self, audience: Audience) -> str | None:
        return self.clinic if audience == "clinic" else self.patient

    def help(self, audience: Audience) -> str:
        return self.clinic_help if audience == "clinic" else self.patient_help

    def choice_labels(self, audience: Audience) -> list[tuple[str, str]]:
        return [(c.value, c.clinic if audience == "clinic" else c.patient) for c in self.choices]


HEALTH = "Health and medicines"
PREGNANCY = "Pregnancy and breastfeeding"
SKIN = "Skin history"
TODAY = "The skin today"


def _yes_no(name: str, section: str, clinic: str, patient: str) -> Question:
    return Question(name, "yes_no", clinic, patient, section, screens=name)


def _areas(name: str, clinic: str) -> Question:
    return Question(name, "areas", clinic, None, TODAY, screens=name)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "medical_history",
        "lines",
        "Medical history",
        "Any health conditions?",
        HEALTH,
        screens="medical_history",
        clinic_help="One condition per line.",
        patient_help="One per line. Leave empty if none.",
    ),
    Question(
        "takes_medicines",
        "yes_no",
        None,
        "Do you take any medicines or supplements?",
        HEALTH,
    ),
    Question(
        "medications",
        "lines",
        "Medicines and supplements",
        "Which medicines or supplements?",
        HEALTH,
        screens="medications",
        clinic_help="One per line.",
        patient_help="One per line.",
        follows="takes_medicines",
        asked_when=(True,),
        needed_when=(True,),
        needed_message="Tell us which medicines or supplements you take.",
    ),
    Question(
        "allergies",
        "lines",
        "Allergies",
        "Any allergies?",
        HEALTH,
        screens="allergies",
        clinic_help="One per line: medicines, numbing creams, metals (nickel, gold...), latex.",
        patient_help="One per line: medicines, numbing creams, metals, latex.",
        rows=2,
    ),
    _yes_no(
        "anticoagulants",
        HEALTH,
        "Takes blood thinners (anticoagulants)",
        "Do you take blood thinners (such as warfarin, apixaban or rivaroxaban)?",
    ),
    _yes_no(
        "immunosuppressed",
        HEALTH,
        "Immune system weakened by illness or medicines",
        "Is your immune system weakened by an illness or by medicines?",
    ),
    Question(
        "diabetes",
        "choice",
        "Diabetes",
        "Do you have diabetes?",
        HEALTH,
        screens="diabetes",
        choices=(
            Choice("none", "No diabetes", "No"),
            Choice("controlled", "Well controlled", "Yes, well controlled"),
            Choice("uncontrolled", "Not well controlled", "Yes, not well controlled"),
        ),
    ),
    Question(
        "isotretinoin",
        "choice",
        None,
        "Have you ever taken isotretinoin (Roaccutane) tablets?",
        HEALTH,
        choices=(
            Choice("never", "Never", "No, never", {"isotretinoin_current": False}),
            Choice("now", "Now", "Yes, I take it now", {"isotretinoin_current": True}),
            Choice("past", "In the past", "Yes, in the past", {"isotretinoin_current": False}),
        ),
    ),
    Question(
        "isotretinoin_current",
        "yes_no",
        "Taking isotretinoin (Roaccutane) now",
        None,  # the patient answers it with "Have you ever taken isotretinoin?"
        HEALTH,
        screens="isotretinoin_current",
    ),
    Question(
        "isotretinoin_last_dose",
        "date",
        "Last dose of isotretinoin (Roaccutane)",
        "When was your last dose?",
        HEALTH,
        screens="isotretinoin_last_dose",
        clinic_help="Leave empty if never taken.",
        patient_help="Your best guess is fine.",
        follows="isotretinoin",
        asked_when=("now", "past"),
        needed_when=("past",),
        needed_message="Tell us roughly when your last dose was.",
    ),
    _yes_no(
        "metal_allergy",
        HEALTH,
        "Allergic to nickel or other metals",
        "Are you allergic to nickel or other metals?",
    ),
    _yes_no("pregnant", PREGNANCY, "Pregnant", "Are you pregnant?"),
    _yes_no("breastfeeding", PREGNANCY, "Breastfeeding", "Are you breastfeeding?"),
    _yes_no(
        "keloid_history",
        SKIN,
        "Has had keloid scars",
        "Have you ever had keloid scars (thick scars that grow past the wound)?",
    ),
    _yes_no(
        "hypertrophic_scar_history",
        SKIN,
        "Has had raised (hypertrophic) scars",
        "Have you ever had raised scars?",
    ),
    _yes_no(
        "herpes_simplex_history",
        SKIN,
        "Gets cold sores (herpes simplex)",
        "Do you get cold sores?",
    ),
    _yes_no("rosacea", SKIN, "Has rosacea", "Do you have rosacea?"),
    _yes_no(
        "telangiectasia",
        SKIN,
        "Has visible thread veins (telangiectasia)",
        "Do you have thread veins (small red or purple veins you can see) on your skin?",
    ),
    Question(
        "recent_tan_or_sunburn",
        "date",
        "Most recent tan or sunburn on the areas to treat",
        "When did you last have a tan or sunburn on the skin to be treated?",
        SKIN,
        screens="recent_tan_or_sunburn",
        clinic_help="Leave empty if none recently.",
        patient_help="Leave empty if not in the last few months.",
    ),
    _areas(
        "active_infection_areas",
        "Areas with an active skin infection (cold sore, warts, impetigo...)",
    ),
    _areas("active_acne_areas", "Areas with active acne spots"),
    _areas("active_herpes_areas", "Areas with an active cold sore today"),
)
BY_NAME = {q.name: q for q in QUESTIONS}
SECTIONS = tuple(dict.fromkeys(q.section for q in QUESTIONS))


def asked(audience: Audience) -> tuple[Question, ...]:
    """The questions one form asks, in order."""
    return tuple(q for q in QUESTIONS if q.wording(audience) is not None)


def lines(text: str | None) -> list[str]:
    """A free-text answer, one item a line, blank lines left out."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


_EMPTY: dict[str, object] = {"yes_no": False, "date": None, "lines": [], "areas": []}


def _value(question: Question, answer: object) -> object:
    if question.kind == "lines":
        return lines(answer if isinstance(answer, str) else None)
    if question.kind == "yes_no":
        return bool(answer)
    if question.kind == "areas":
        return list(answer or [])
    if question.kind == "date":
        return answer if isinstance(answer, date) else None
    return answer


def screening_inputs(answers: Mapping[str, object]) -> dict[str, object]:
    """The answers (by question name, as a form cleans them) as the screening's inputs: keyword
    arguments for `patient.Intake`. Questions not in `answers` (not asked) are left out."""
    inputs: dict[str, object] = {}
    for q in QUESTIONS:
        if q.name not in answers:
            continue
        answer = answers[q.name]
        if q.screens:
            inputs[q.screens] = _value(q, answer)
        for choice in q.choices:
            if choice.value == answer:
                inputs.update(choice.sets)
    for q in QUESTIONS:
        if q.follows in answers and q.screens and answers[q.follows] not in q.asked_when:
            inputs[q.screens] = _EMPTY[q.kind]
    return inputs


def missing_follow_ups(answers: Mapping[str, object]) -> dict[str, str]:
    """Follow-ups their question's answer needs but left empty: {question name: message}."""
    return {
        q.name: q.needed_message
        for q in QUESTIONS
        if q.follows in answers
        and answers[q.follows] in q.needed_when
        and _value(q, answers.get(q.name)) in (None, [])
    }
