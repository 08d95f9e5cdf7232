"""One patient search for the list page and the API: name, phone (typed any way), email, or a
date of birth typed as YYYY-MM-DD or DD/MM/YYYY."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace

from dermis.web.clinic.models import Patient

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")


def parse_date(text: str) -> date | None:
    """A date typed as YYYY-MM-DD, DD/MM/YYYY or DD.MM.YYYY, else None."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class PatientFilter:
    q: str = ""
    date_of_birth: date | None = None

    def apply(self, patients: QuerySet[Patient]) -> QuerySet[Patient]:
        if self.date_of_birth is not None:
            patients = patients.filter(date_of_birth=self.date_of_birth)
        q = (self.q or "").strip()
        if not q:
            return patients
        born = parse_date(q)
        if born is not None:
            return patients.filter(date_of_birth=born)
        # Phones are stored as typed ("07700 900123"): compare without spaces and dashes too.
        compact = Replace(Replace("phone", Value(" "), Value("")), Value("-"), Value(""))
        patients = patients.annotate(phone_compact=compact)
        for term in q.split():
            match = (
                Q(given_name__icontains=term)
                | Q(family_name__icontains=term)
                | Q(email__icontains=term)
                | Q(phone__icontains=term)
            )
            digits = term.replace("-", "")
            if digits.lstrip("+").isdigit():
                match |= Q(phone_compact__contains=digits)
            patients = patients.filter(match)
        return patients
