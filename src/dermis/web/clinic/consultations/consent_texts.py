"""Consent texts, in versioned sets. A signed record keeps the exact text and its sha256.

Never edit a published version: add a new one and point CURRENT at it, so every stored record
still matches the version it names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

_COMMON = """\
I agree to a course of {name} at this clinic, as set out in my treatment plan.

I have told the practitioner about my health, medicines, pregnancy or breastfeeding, skin \
conditions, cold sores, scarring, and any recent treatments, tans or sunburn, and I will tell \
them before each session if anything changes.

I understand that results vary from person to person, that several sessions are usually needed, \
and that no particular result has been promised to me.

I understand that I may ask questions at any time, that I may stop the course at any time, and \
that the practitioner may stop or change a session if it is not safe to continue.

I have received aftercare instructions and I will follow them. I will contact the clinic if I \
notice signs of infection, blistering, spreading redness, or any reaction that worries me.
"""

_RISKS = {
    "microneedling": """\
Microneedling uses fine needles to make tiny controlled punctures in the skin. I understand that \
afterwards I can expect redness, swelling, tightness, dryness or flaking for a few days, and \
sometimes pinpoint bleeding or bruising. Less common risks include infection, a flare of cold \
sores, acne-like spots, changes in skin colour (darker or lighter patches, more likely in darker \
skin), reactions to products applied to the skin, and, rarely, scarring or marks in lines.
""",
    "microdermabrasion": """\
Microdermabrasion removes the outer layer of skin with a fine abrasive tip and gentle suction. \
I understand that afterwards I can expect redness, sensitivity and mild swelling for hours to a \
day. Less common risks include small bruises from suction, scratches or grazes, a flare of cold \
sores or rosacea, and changes in skin colour (more likely in darker skin).
""",
}


@dataclass(frozen=True)
class ConsentText:
    version: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


# Every published set of texts. A record's version is "<set>/<modalities>", e.g.
# "2026.1/microneedling+microdermabrasion": enough to rebuild the exact text it stores.
VERSIONS: dict[str, dict[str, str]] = {"2026.1": {"common": _COMMON, **_RISKS}}
CURRENT = "2026.1"
MODALITIES = ("microneedling", "microdermabrasion")


def consent_for(modalities: Iterable[str], version: str = CURRENT) -> ConsentText:
    """The consent text for a plan's modalities: one risk section each, then the agreement."""
    wanted = set(modalities)
    chosen = [m for m in MODALITIES if m in wanted]
    if not chosen:
        raise ValueError("a consent text needs at least one modality")
    texts = VERSIONS[version]
    sections = [texts[m].strip() for m in chosen]
    sections.append(texts["common"].format(name=" and ".join(chosen)).strip())
    return ConsentText(f"{version}/{'+'.join(chosen)}", "\n\n".join(sections) + "\n")


# Photographs for the record, asked separately from the treatment (a patient may refuse photos
# and still be treated). Versioned the same way: never edit a published text.
PHOTO_VERSIONS: dict[str, str] = {
    "photos-2026.1": """\
I agree that the clinic may take photographs of the skin to be treated, before, during and after \
my course, and keep them in my clinical record.

The photographs are used only to plan my treatment and to see how my skin responds. They are not \
shown to anyone outside the clinic, or used for advertising, unless I give separate written \
consent.

I may withdraw this consent at any time by telling the clinic. Photographs already taken stay in \
my record for as long as the clinic must keep clinical records.
""",
}
PHOTO_CURRENT = "photos-2026.1"


def photo_consent(version: str = PHOTO_CURRENT) -> ConsentText:
    return ConsentText(version, PHOTO_VERSIONS[version])
