"""How a patient's name, phone and date of birth are compared: the same folding for what is
stored (`Patient.search_name`, `Patient.phone_normalised`) and for what is typed into a search.

Names lose accents and case ("Łukasiewicz" -> "lukasiewicz", "Nguyễn" -> "nguyen"); phones are
kept in E.164 ("07700 900999" in a UK clinic -> "+447700900999"); dates of birth are read in
the forms people type them.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import phonenumbers
from anyascii import anyascii

DEFAULT_REGION = "GB"

_A_YEAR = re.compile(r"\d{4}")
DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d %b, %Y",
    "%b %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
)

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_PHONE_SHAPED = re.compile(r"^\+?[\d\s().\-/]+$")
MIN_PHONE_DIGITS = 3


def fold(text: str) -> str:
    """Lower case ASCII words separated by one space: accents, case and punctuation ignored
    (apostrophes join: "O'Brien" -> "obrien"; hyphens separate: "Smith-Jones" -> "smith jones")."""
    ascii_text = anyascii(text or "").lower().replace("'", "")
    return " ".join(_NOT_WORD.sub(" ", ascii_text).split())


def search_name(given_name: str, family_name: str) -> str:
    return fold(f"{given_name} {family_name}")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def phone(text: str, region: str = DEFAULT_REGION) -> str:
    """A phone number as stored for search: E.164 when it reads as a possible number of the
    clinic's region (or carries its own country code), else its digits (with a leading + kept)."""
    text = (text or "").strip()
    if not _digits(text):
        return ""
    try:
        number = phonenumbers.parse(text, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ("+" if text.startswith("+") else "") + _digits(text)


def is_phone_shaped(text: str) -> bool:
    text = text.strip()
    return bool(_PHONE_SHAPED.match(text)) and len(_digits(text)) >= MIN_PHONE_DIGITS


def phone_fragment(text: str, region: str = DEFAULT_REGION) -> str:
    """What a stored E.164 number must contain to match a typed (possibly partial) number:
    international forms ("+44 7700…", "0044 7700…") keep their country code; a national form
    loses its trunk prefix ("07700 900" -> "7700900"), so it matches whatever the country code."""
    text = text.strip()
    digits = _digits(text)
    if text.startswith("+"):
        return "+" + digits
    international = _international_prefix(region)
    if international and digits.startswith(international):
        return "+" + digits[len(international) :]
    trunk = _trunk_prefix(region)
    if trunk and digits.startswith(trunk) and len(digits) > len(trunk):
        return digits[len(trunk) :]
    return digits


def _metadata(region: str):
    return phonenumbers.PhoneMetadata.metadata_for_region(region or DEFAULT_REGION, None)


def _trunk_prefix(region: str) -> str:
    meta = _metadata(region)
    return (meta.national_prefix or "") if meta else ""


def _international_prefix(region: str) -> str:
    meta = _metadata(region)
    prefix = (
        (meta.preferred_international_prefix or meta.international_prefix or "") if meta else ""
    )
    return prefix if prefix.isdigit() else "00"


def parse_date(text: str) -> date | None:
    """A date of birth typed as 1988-07-14, 14/07/1988, 14.07.1988, 14-07-1988, 14 Jul 1988 or
    14 July 1988 (day first: the clinic's convention), else None."""
    text = " ".join((text or "").split())
    if not _A_YEAR.search(text):  # each form's %Y is four digits: nothing else can be a date
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
