"""Recognition: the intake's free text (medicines, history, allergies) read against the lexicon.

Each line is split at commas, semicolons, "and", "+" and "/", and every part is matched against
the lexicon's names ignoring case, accents, punctuation and doses ("Warfarin 5 mg" is warfarin),
with small typos tolerated for longer words. What is recognised becomes a `Fact` that keeps the
words it came from; what is not is listed in `unrecognised` for the practitioner to review,
never dropped. The practitioner then confirms, corrects or removes each fact, and `screen()`
takes the reviewed list (`facts=`) instead of recognising again.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from dermis.core.knowledge.schema import KnowledgeBase, Lexicon
from dermis.core.patient import Intake

FIELDS = ("medications", "medical_history", "allergies")
# Sections searched in each free-text field: allergens only in the allergies, or beside an
# allergy word elsewhere ("nickel allergy" in the history); never medicines in the allergies.
SECTIONS = {
    "medications": ("medicines", "conditions"),
    "medical_history": ("conditions", "medicines"),
    "allergies": ("allergens",),
}
SPLIT = re.compile(r"[,;+/\n]|\band\b|\bplus\b|&")
MIN_FUZZY_CHARS = 5  # shorter words must match exactly ("gold", "bcc")
FUZZY_CUTOFF = 0.85  # difflib ratio: about one typo in seven letters
NOT_RECOGNISED = "not recognised — practitioner to review"


def normalise(text: str) -> tuple[str, ...]:
    """Lower case, no accents, punctuation as spaces: "Roaccutane® 20mg" -> (roaccutane, 20mg)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return tuple(re.sub(r"[^a-z0-9]+", " ", plain).split())


@dataclass(frozen=True)
class Fact:
    """One thing the patient told us, in the lexicon's terms, with the words it came from."""

    kind: str  # medicine, condition or allergen
    class_id: str
    label: str
    source_text: str
    confirmed: bool = False  # True once a practitioner has checked it
    entry: str | None = None  # the lexicon entry (generic name, condition or metal)
    field: str | None = None  # the intake field the words came from
    areas: tuple[str, ...] = ()  # areas the text names (none: unknown, so every area)
    past: bool = False  # the text says it is over ("stopped", "previously")
    matched: str = ""  # the words that matched, as normalised

    @property
    def recognised_from(self) -> str:
        return f"recognised from: '{self.source_text}'"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "class_id": self.class_id,
            "label": self.label,
            "source_text": self.source_text,
            "confirmed": self.confirmed,
            "entry": self.entry,
            "field": self.field,
            "areas": list(self.areas),
            "past": self.past,
            "matched": self.matched,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fact:
        return cls(
            kind=data["kind"],
            class_id=data["class_id"],
            label=data["label"],
            source_text=data["source_text"],
            confirmed=bool(data.get("confirmed", False)),
            entry=data.get("entry"),
            field=data.get("field"),
            areas=tuple(data.get("areas", ())),
            past=bool(data.get("past", False)),
            matched=data.get("matched", ""),
        )


@dataclass(frozen=True)
class Unrecognised:
    field: str
    source_text: str
    note: str = NOT_RECOGNISED

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "source_text": self.source_text, "note": self.note}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Unrecognised:
        return cls(data["field"], data["source_text"], data.get("note", NOT_RECOGNISED))


@dataclass(frozen=True)
class Recognition:
    facts: tuple[Fact, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()

    @property
    def pending(self) -> tuple[Fact, ...]:
        """Facts no practitioner has confirmed yet."""
        return tuple(f for f in self.facts if not f.confirmed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "facts": [f.to_dict() for f in self.facts],
            "unrecognised": [u.to_dict() for u in self.unrecognised],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recognition:
        return cls(
            tuple(Fact.from_dict(f) for f in data.get("facts", ())),
            tuple(Unrecognised.from_dict(u) for u in data.get("unrecognised", ())),
        )


@dataclass
class _Index:
    """The lexicon's names as token tuples, by section; built once per lexicon."""

    terms: dict[str, dict[tuple[str, ...], str]] = field(default_factory=dict)
    by_length: dict[str, dict[int, list[str]]] = field(default_factory=dict)
    areas: dict[tuple[str, ...], str] = field(default_factory=dict)
    words: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)


_INDEX: dict[int, tuple[Lexicon, _Index]] = {}


def _phrases(words: list[str]) -> set[tuple[str, ...]]:
    return {normalise(w) for w in words if normalise(w)}


def _index(lexicon: Lexicon) -> _Index:
    cached = _INDEX.get(id(lexicon))
    if cached and cached[0] is lexicon:
        return cached[1]
    index = _Index()
    for section in ("medicines", "conditions", "allergens"):
        terms: dict[tuple[str, ...], str] = {}
        for entry_id, entry in getattr(lexicon, section).items():
            for name in (entry_id, *entry.variants, *entry.brands):
                terms.setdefault(normalise(name), entry_id)
        terms.pop((), None)
        index.terms[section] = terms
        lengths: dict[int, list[str]] = {}
        for tokens in terms:
            lengths.setdefault(len(tokens), []).append(" ".join(tokens))
        index.by_length[section] = lengths
    for area, words in lexicon.area_words.items():
        for phrase in _phrases(words):
            index.areas[phrase] = area
    for name in ("negation_words", "past_words", "allergy_words", "nothing_words"):
        index.words[name] = _phrases(getattr(lexicon, name))
    _INDEX[id(lexicon)] = (lexicon, index)
    return index


def _find(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> int:
    """Where `phrase` starts in `tokens`, or -1."""
    n = len(phrase)
    return next((i for i in range(len(tokens) - n + 1) if tokens[i : i + n] == phrase), -1)


def _has_any(tokens: tuple[str, ...], phrases: set[tuple[str, ...]]) -> bool:
    return any(_find(tokens, p) >= 0 for p in phrases)


def _negated(tokens: tuple[str, ...], start: int, index: _Index) -> bool:
    """A negation word before the match ("no cold sores"), but "no longer" means past."""
    before = tokens[:start]
    for i in range(len(before)):
        if before[i : i + 2] == ("no", "longer"):
            continue
        if any(before[i : i + len(p)] == p for p in index.words["negation_words"]):
            return True
    return False


def _matches(tokens: tuple[str, ...], index: _Index, section: str) -> list[tuple[int, str, str]]:
    """(start, entry id, matched words): longest names first, exact before fuzzy."""
    terms, used, found = index.terms[section], [False] * len(tokens), []
    longest = max(index.by_length[section], default=0)
    for size in range(min(longest, len(tokens)), 0, -1):
        for start in range(len(tokens) - size + 1):
            if any(used[start : start + size]):
                continue
            window = tokens[start : start + size]
            entry = terms.get(window)
            joined = " ".join(window)
            if entry is None and len(joined.replace(" ", "")) >= MIN_FUZZY_CHARS:
                if any(t.isdigit() for t in window):
                    continue
                close = difflib.get_close_matches(
                    joined, index.by_length[section].get(size, []), n=1, cutoff=FUZZY_CUTOFF
                )
                entry = terms[tuple(close[0].split())] if close else None
            if entry is not None:
                used[start : start + size] = [True] * size
                found.append((start, entry, joined))
    return sorted(found)


def _areas(tokens: tuple[str, ...], index: _Index, kb: KnowledgeBase) -> tuple[str, ...]:
    named = {area for phrase, area in index.areas.items() if _find(tokens, phrase) >= 0}
    if "face" in named:
        named |= {a for a, spec in kb.areas.items() if spec.region == "face"}
    return tuple(sorted(named - {"face"}))


def _segments(line: str) -> list[str]:
    return [part.strip(" .:-") for part in SPLIT.split(line) if part.strip(" .:-()")]


def _recognise_part(
    part: str, field_name: str, kb: KnowledgeBase, index: _Index
) -> tuple[list[Fact], str | None]:
    """Facts from one part of a line, or a note saying why nothing was taken from it."""
    tokens = normalise(part)
    if not tokens or tokens in index.words["nothing_words"]:
        return [], ""
    sections = SECTIONS[field_name]
    if field_name != "allergies" and _has_any(tokens, index.words["allergy_words"]):
        sections = ("allergens", "conditions")  # an allergy to a medicine is not taking it
    lexicon, facts = kb.lexicon, []
    past = _has_any(tokens, index.words["past_words"])
    areas = _areas(tokens, index, kb)
    negated = False
    for section in sections:
        for start, entry_id, words in _matches(tokens, index, section):
            if _negated(tokens, start, index):
                negated = True
                continue
            entry = getattr(lexicon, section)[entry_id]
            cls = lexicon.classes[entry.class_id]
            same = set(normalise(entry_id)) <= set(normalise(cls.label))
            label = cls.label if same else f"{cls.label}: {entry_id}"
            facts.append(
                Fact(
                    kind=cls.kind,
                    class_id=entry.class_id,
                    label=label + (" (past)" if past else ""),
                    source_text=part,
                    entry=entry_id,
                    field=field_name,
                    areas=areas,
                    past=past,
                    matched=words,
                )
            )
    if facts:
        return facts, None
    if negated:
        return [], f"negated, so not taken as a fact — {NOT_RECOGNISED}"
    return [], NOT_RECOGNISED


def _qualifier(part: str, index: _Index, kb: KnowledgeBase) -> tuple[bool, tuple[str, ...]]:
    """A part that only says when or where ("stopped in August", "on the neck")."""
    tokens = normalise(part)
    return _has_any(tokens, index.words["past_words"]), _areas(tokens, index, kb)


def recognise(intake: Intake, kb: KnowledgeBase) -> Recognition:
    """Read the intake's free text into facts; list every part not recognised."""
    index = _index(kb.lexicon)
    facts: dict[tuple[str, str | None, str], Fact] = {}
    unrecognised: list[Unrecognised] = []
    for field_name in FIELDS:
        for line in getattr(intake, field_name):
            previous: list[tuple[str, str | None, str]] = []
            for part in _segments(line) or [line]:
                found, note = _recognise_part(part, field_name, kb, index)
                past, areas = _qualifier(part, index, kb) if note else (False, ())
                only_numbers = all(tok.isdigit() for tok in normalise(part))
                if note and previous and (past or areas or only_numbers):
                    # "isotretinoin, stopped in August": the qualifier belongs to what came before
                    for key in previous:
                        fact = facts[key]
                        facts[key] = replace(
                            fact,
                            past=fact.past or past,
                            label=fact.label + (" (past)" if past and not fact.past else ""),
                            areas=tuple(sorted({*fact.areas, *areas})),
                            source_text=f"{fact.source_text}, {part}",
                        )
                    continue
                previous = []
                for fact in found:
                    key = (fact.class_id, fact.entry, part)
                    facts.setdefault(key, fact)
                    previous.append(key)
                if note:
                    unrecognised.append(Unrecognised(field_name, part, note))
    return Recognition(tuple(facts.values()), tuple(unrecognised))
