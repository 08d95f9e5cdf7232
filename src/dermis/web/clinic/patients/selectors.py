"""Reads of patients: the search every door uses."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Clinic, Patient, PatientMerge, PatientTally
from dermis.web.clinic.patients.filters import PatientFilter, condition
from dermis.web.clinic.prepared import Paged, PreparedRows, PreparedValues
from dermis.web.clinic.together import Read


def _by_name(clinic: int) -> QuerySet[Patient]:
    return Patient.objects.filter(clinic_id=clinic).order_by("family_name", "given_name", "pk")


# The clinic's patients by name and their tally, composed once per process (clinic/prepared.py):
# the list as it opens, on the web and the API.
BY_NAME = PreparedRows(Patient, _by_name, clinic=int)
TALLY = PreparedValues(
    PatientTally,
    lambda clinic: (
        PatientTally.objects.filter(clinic_id=clinic).order_by("pk").values_list("n", flat=True)[:1]
    ),
    flat=True,
    clinic=int,
)


def search(actor: Actor, search: PatientFilter) -> QuerySet[Patient] | Paged:
    """The actor's clinic's patients matching `search`, by name; phones typed without a country
    code are read in the clinic's country: `Paged` through a query composed once for the
    search's shape (`_composed`), counted by the ORM where a page cannot tell how many (a search
    of more than `COMPOSED_AT_MOST` conditions is the ORM's own queryset). With nothing to narrow
    it, the clinic's patients through a query composed once, counted by the tally."""
    clinic = actor.clinic
    if not narrows(search):
        return Paged(BY_NAME, lambda: tally(clinic), known={"clinic": clinic}, clinic=clinic.pk)
    asked = search.conditions(region=clinic.country)
    if len(asked) > COMPOSED_AT_MOST:
        return search.apply(_by_name(clinic.pk), region=clinic.country)
    values = {f"v{i}": value for i, (_, value) in enumerate(asked)}
    rows = _composed(tuple(kind for kind, _ in asked))

    def count() -> int:
        return search.apply(_by_name(clinic.pk), region=clinic.country).count()

    return Paged(rows, count, known={"clinic": clinic}, clinic=clinic.pk, **values)


# A narrowed search, composed once per shape (the kinds of its conditions, in order: a name of
# one word, a phone number, two words and a date of birth, ...) and planned by the database for
# each search's values (`planned_each_time`: a rare name's trigrams, a common one's order).
# Composing it took 0.5 ms of a 1.1 ms search among 25,000 patients.
COMPOSED_AT_MOST = 8
_SEARCHES: dict[tuple[str, ...], PreparedRows] = {}


def _composed(shape: tuple[str, ...]) -> PreparedRows:
    rows = _SEARCHES.get(shape)
    if rows is None:

        def build(clinic: int, **values) -> QuerySet[Patient]:
            found = _by_name(clinic)
            for i, kind in enumerate(shape):
                found = found.filter(condition(kind, values[f"v{i}"]))
            return found

        kinds = {f"v{i}": date if kind == "born" else str for i, kind in enumerate(shape)}
        rows = PreparedRows(Patient, build, planned_each_time=True, clinic=int, **kinds)
        if len(_SEARCHES) >= 256:  # shapes are few; a flood of odd ones is not kept
            _SEARCHES.clear()
        _SEARCHES[shape] = rows
    return rows


def page_reads(actor: Actor, search: PatientFilter, offset: int, limit: int) -> list[Read]:
    """What a page of the list and its count read when nothing narrows it (the rows by name from
    `offset`, and the tally), for the web page and the API to send together
    (`together.read_together`): one round trip where there were two. The count is then the
    tally's, read with the page whether or not the page could tell it (`counted`)."""
    if narrows(search) or limit <= 0:
        return []
    clinic = actor.clinic.pk
    return [BY_NAME.ahead(limit, offset, clinic=clinic), TALLY.ahead(clinic=clinic)]


def narrows(search: PatientFilter) -> bool:
    return search.date_of_birth is not None or bool(search.q.split())


def count(actor: Actor, search: PatientFilter, found: QuerySet[Patient]) -> int:
    """How many patients `found` (the `search` of the actor's clinic's patients) holds. With
    nothing to narrow it, the clinic's tally (`PatientTally`, kept by the database): one row
    read, where counting the clinic's patients grew with the clinic (1 ms at 25,000)."""
    if not narrows(search):
        return tally(actor.clinic)
    return found.count()


def tally(clinic: Clinic) -> int:
    """How many patients the clinic has, from its tally (one row, whatever the clinic's size)."""
    found = TALLY.rows(clinic=clinic.pk)
    return found[0] if found else 0


def by_ids(actor: Actor, ids: list[int]) -> QuerySet[Patient]:
    """The actor's clinic's patients with these ids, by name."""
    return Patient.objects.filter(clinic=actor.clinic, pk__in=ids).order_by(
        "family_name", "given_name", "pk"
    )


MAX_CANDIDATES = 10


def likely_duplicates(patient: Patient) -> list[Patient]:
    """Patients of `patient`'s clinic who may be the same person: the same name (accents and
    case aside) and date of birth, or the same email, or the same phone number."""
    same = Q(search_name=patient.search_name, date_of_birth=patient.date_of_birth)
    if patient.email:
        same |= Q(email__iexact=patient.email)
    if patient.phone_normalised:
        same |= Q(phone_normalised=patient.phone_normalised)
    candidates = Patient.objects.filter(same, clinic_id=patient.clinic_id)
    if patient.pk is not None:
        candidates = candidates.exclude(pk=patient.pk)
    return list(candidates.order_by("family_name", "given_name", "pk")[:MAX_CANDIDATES])


def merged_into(clinic: Clinic, patient_id: int) -> int | None:
    """The id of the record `patient_id` was merged into, if it was one of `clinic`'s."""
    return (
        PatientMerge.objects.filter(clinic=clinic, merged_id=patient_id)
        .values_list("kept_id", flat=True)
        .first()
    )
