"""One patient search for the list page and the API: a name typed without its accents or case,
a phone number in any form (national, international, spaced), an email, or a date of birth in
the common forms (patients/normalise.py).

Names and phones are matched against the normalised columns the patients services keep, with
`contains` (LIKE '%…%'), which PostgreSQL answers from the trigram indexes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from dermis.web.clinic.models import Patient
from dermis.web.clinic.patients import normalise


@dataclass(frozen=True)
class PatientFilter:
    q: str = ""
    date_of_birth: date | None = None

    def apply(
        self, patients: QuerySet[Patient], region: str = normalise.DEFAULT_REGION
    ) -> QuerySet[Patient]:
        if self.date_of_birth is not None:
            patients = patients.filter(date_of_birth=self.date_of_birth)
        q = " ".join((self.q or "").split())
        if not q:
            return patients
        born = normalise.parse_date(q)
        if born is not None:
            return patients.filter(date_of_birth=born)
        if normalise.is_phone_shaped(q):  # "+44 7700 900999" is one number, not three words
            return patients.filter(phone_normalised__contains=normalise.phone_fragment(q, region))
        for term in q.split():
            patients = patients.filter(_term(term, region))
        return patients


def _term(term: str, region: str) -> Q:
    if "@" in term:
        return Q(email__icontains=term)
    if normalise.is_phone_shaped(term):
        return Q(phone_normalised__contains=normalise.phone_fragment(term, region))
    match = Q()
    for word in normalise.fold(term).split():  # "Smith-Jones" is two words
        match &= Q(search_name__contains=word)
    return match  # punctuation alone constrains nothing
