"""Reading the recall worklist: one page of stored rows per section, a constant number of queries
whatever the clinic's size (the rows are kept by `due_dates.py`; nothing is forecast here).

A patient whose latest contact is "snooze until" a later day is left off every section until then.
Each section's query is composed once per process (`PreparedRows`) and run with the clinic, the
day and the hour.

`kept_worklist` keeps a page read for the clinic's recall version (`versions.kept_recall_value`):
the database adds one to it whenever anything the worklist shows is written, so a page read for
one number is the page while the number stands and until the first moment time alone would change
it: the next hold on a maintenance row to end (`booked_until`) and the next missed follow-up's
end to pass. The day is part of what it is kept by: the horizon and the snoozes go by days.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

from django.db.models import Exists, F, OuterRef, Q, Subquery

from dermis.web.clinic.models import (
    ATTENDED_STATUSES,
    OPEN_STATUSES,
    Appointment,
    Clinic,
    LatestRecallContact,
    RecallEntry,
    StaffMember,
)
from dermis.web.clinic.prepared import PreparedRows, PreparedValues
from dermis.web.clinic.scheduling import versions
from dermis.web.clinic.scheduling.recall import HORIZON_DAYS, LIMIT, OverdueFollowUp
from dermis.web.clinic.together import read_together

Section = RecallEntry.Section
MISSED = (*OPEN_STATUSES, Appointment.Status.NO_SHOW)
HELD = (*OPEN_STATUSES, *ATTENDED_STATUSES)
# A row shows its plan's version and links to it: the plan's content is not read.
PLAN_UNREAD = ("plan__content", "plan__adjustments", "plan__note")


@dataclass(frozen=True)
class Page:
    maintenance: list[RecallEntry]
    incomplete: list[RecallEntry]
    follow_ups: list[OverdueFollowUp]
    more: bool = False  # a later page has rows
    # The first moment after the read that time alone would change the page (read when asked).
    changes_at: datetime | None = None
    # What the page and the API drew from these rows, by what else it depends on (a kept page is
    # shared by a process's requests: each draws its rows once).
    drawn: dict = field(default_factory=dict, compare=False, repr=False)

    def drawn_once(self, key: tuple, draw):
        """`draw()`, once for each `key` while this page is kept."""
        found = self.drawn.get(key)
        if found is None:
            found = self.drawn[key] = draw()
        return found

    def patients(self) -> dict:
        rows = [*self.maintenance, *self.incomplete, *self.follow_ups]
        return {r.patient.pk: r.patient for r in rows}


LATEST = "patient__latest_recall_contact__contact"


def _awake(today: date) -> Q:
    # Only a snooze has a day (the contact service sees to it): the latest contact's day, if any.
    snooze = f"{LATEST}__snooze_until"
    return Q(**{f"{snooze}__isnull": True}) | Q(**{f"{snooze}__lte": today})


def _with_contact(rows: list) -> list:
    """Each row given its patient's latest contact as `contact_outcome`, `contact_at`,
    `contact_by` and `contact_snooze` (read with the row: `LATEST` is select_related)."""
    for row in rows:
        try:
            contact = row.patient.latest_recall_contact.contact
        except LatestRecallContact.DoesNotExist:
            contact = None
        row.contact_outcome = contact.outcome if contact else None
        row.contact_at = contact.at if contact else None
        row.contact_by = contact.by_name if contact else ""
        row.contact_snooze = contact.snooze_until if contact else None
    return rows


def _maintenance(clinic: int, due_by: date, now: datetime, today: date):
    rows = RecallEntry.objects.filter(
        clinic_id=clinic, section=Section.MAINTENANCE, due__lte=due_by
    ).filter(Q(booked_until__isnull=True) | Q(booked_until__lt=now))
    rows = rows.filter(_awake(today)).select_related("patient", LATEST)
    return rows.order_by("due", "patient__family_name", "patient_id")


MAINTENANCE = PreparedRows(
    RecallEntry, _maintenance, clinic=int, due_by=date, now=datetime, today=date
)


def maintenance(
    clinic: Clinic,
    today: date,
    now: datetime,
    horizon: int = HORIZON_DAYS,
    limit: int = LIMIT,
    offset: int = 0,
) -> list[RecallEntry]:
    due_by = today + timedelta(days=horizon)
    rows = MAINTENANCE.rows(limit, offset, clinic=clinic.pk, due_by=due_by, now=now, today=today)
    return _with_contact(rows)


def _incomplete(clinic: int, today: date):
    rows = RecallEntry.objects.filter(clinic_id=clinic, section=Section.SERIES)
    order = (F("due").asc(nulls_last=True), "patient__family_name", "patient_id", "plan_id")
    rows = rows.filter(_awake(today)).select_related("patient", "plan", LATEST)
    return rows.defer(*PLAN_UNREAD).order_by(*order, "course")


INCOMPLETE = PreparedRows(RecallEntry, _incomplete, clinic=int, today=date)


def incomplete(
    clinic: Clinic, today: date, limit: int = LIMIT, offset: int = 0
) -> list[RecallEntry]:
    return _with_contact(INCOMPLETE.rows(limit, offset, clinic=clinic.pk, today=today))


# A follow-up's practitioner, by name only (the row shows it).
# (Without the staff's default order, which joined the clinic and sorted for each row: 1.2 of
# the query's 1.9 ms at the 25,000-patient clinic.)
_name_of_practitioner = Subquery(
    StaffMember.objects.filter(pk=OuterRef("practitioner_id")).order_by().values("display_name")
)
SPARE = 8  # rows read past a page of follow-ups, for patients who missed more than one


def _follow_ups(clinic: int, now: datetime, today: date):
    kind = Appointment.Kind.FOLLOW_UP
    later = Appointment.objects.filter(
        patient=OuterRef("patient"), kind=kind, start__gt=OuterRef("start"), status__in=HELD
    )
    return (
        Appointment.objects.filter(clinic_id=clinic, kind=kind, end__lt=now, status__in=MISSED)
        .filter(~Exists(later))
        .filter(_awake(today))
        # The practitioner's name as a column of its own: joining the staff table as well
        # doubled the time PostgreSQL takes to plan this query (0.9 against 0.45 ms).
        .annotate(practitioner_name=_name_of_practitioner)
        .select_related("patient", LATEST)
        .order_by("start", "pk")
    )


FOLLOW_UPS = PreparedRows(Appointment, _follow_ups, clinic=int, now=datetime, today=date)


def follow_ups(
    clinic: Clinic, today: date, now: datetime, limit: int = LIMIT, offset: int = 0
) -> list:
    """Follow-ups whose time passed unattended with none after: each patient's earliest (the
    computed list's rule, `recall.overdue_follow_ups`). Read in (start, id) order, a patient's
    first row is their earliest: later ones are skipped here, reading a batch with room for a few
    (one query unless a page's patients have more than `SPARE` other overdue follow-ups)."""
    # Room for a few patients' second overdue follow-up: reading twice the page made half the
    # rows (and most of the time) for nothing, as a patient rarely misses two.
    wanted = offset + limit
    batch = wanted + SPARE
    seen: set[int] = set()
    out: list[Appointment] = []
    read = 0
    while len(out) < wanted:
        chunk = FOLLOW_UPS.rows(batch, read, clinic=clinic.pk, now=now, today=today)
        read += len(chunk)
        for a in chunk:
            if a.patient_id not in seen:
                seen.add(a.patient_id)
                out.append(a)
        if len(chunk) < batch:
            break
    return [_FollowUp(a.patient, a) for a in _with_contact(out[offset:wanted])]


@dataclass(frozen=True)
class _FollowUp(OverdueFollowUp):
    @property
    def contact_outcome(self):
        return getattr(self.appointment, "contact_outcome", None)

    @property
    def contact_at(self):
        return getattr(self.appointment, "contact_at", None)

    @property
    def contact_by(self):
        return getattr(self.appointment, "contact_by", "")

    @property
    def contact_label(self):
        return getattr(self.appointment, "contact_label", "")


# The moments time alone changes the list: a hold on a maintenance row ends (the row is listed
# once `booked_until < now`), a missed follow-up's end passes (listed once `end < now`).
HOLD_ENDS = PreparedValues(
    RecallEntry,
    lambda clinic, due_by, now: (
        RecallEntry.objects.filter(
            clinic_id=clinic, section=Section.MAINTENANCE, due__lte=due_by, booked_until__gte=now
        )
        .order_by("booked_until")
        .values_list("booked_until", flat=True)[:1]
    ),
    flat=True,
    clinic=int,
    due_by=date,
    now=datetime,
)
FOLLOW_UP_ENDS = PreparedValues(
    Appointment,
    lambda clinic, now: (
        Appointment.objects.filter(
            clinic_id=clinic, kind=Appointment.Kind.FOLLOW_UP, end__gte=now, status__in=MISSED
        )
        .order_by("end")
        .values_list("end", flat=True)[:1]
    ),
    flat=True,
    clinic=int,
    now=datetime,
)


def worklist(
    clinic: Clinic,
    today: date,
    now: datetime,
    horizon: int = HORIZON_DAYS,
    *,
    size: int = LIMIT,
    page: int = 1,
    until: bool = False,
) -> Page:
    """The three sections, each soonest (or most overdue) first: page `page` of `size` rows each
    (the rows after the first `size * (page - 1)`). `more` says whether any section goes on; each
    section reads one row past the page to know, and drops it. `until`: also read when time
    alone would first change the page (`changes_at`), in the same round trip."""
    offset, extra = size * (page - 1), size + 1
    due_by = today + timedelta(days=horizon)
    moments = (
        (HOLD_ENDS.ahead(clinic=clinic.pk, due_by=due_by, now=now),
         FOLLOW_UP_ENDS.ahead(clinic=clinic.pk, now=now))
        if until
        else ()
    )  # fmt: skip
    # The three sections' reads in one round trip (the follow-ups' first batch).
    with read_together(
        MAINTENANCE.ahead(extra, offset, clinic=clinic.pk, due_by=due_by, now=now, today=today),
        INCOMPLETE.ahead(extra, offset, clinic=clinic.pk, today=today),
        FOLLOW_UPS.ahead(offset + extra + SPARE, 0, clinic=clinic.pk, now=now, today=today),
        *moments,
    ):
        sections = (
            maintenance(clinic, today, now, horizon, extra, offset),
            incomplete(clinic, today, extra, offset),
            follow_ups(clinic, today, now, extra, offset),
        )
        changes_at = (
            min(
                [*HOLD_ENDS.rows(clinic=clinic.pk, due_by=due_by, now=now),
                 *FOLLOW_UP_ENDS.rows(clinic=clinic.pk, now=now)],
                default=None,
            )
            if until
            else None
        )  # fmt: skip
    more = any(len(rows) > size for rows in sections)
    return Page(*(rows[:size] for rows in sections), more=more, changes_at=changes_at)


# A page kept by code whose `Page` had other fields is not this code's to read.
_SHAPE = tuple(f.name for f in fields(Page))


def kept_worklist(
    clinic: Clinic, today: date, now: datetime, *, size: int = LIMIT, page: int = 1
) -> Page:
    """`worklist(clinic, today, now, size=size, page=page)`, kept by the clinic's recall version
    while time alone would not change it (module docstring). The page and the API read it alike;
    what each shows of it to whom is theirs to choose."""

    if versions.in_transaction():  # nothing is kept there: the moments need not be read
        return worklist(clinic, today, now, size=size, page=page)

    def draw() -> tuple[Page, datetime | None]:
        read = worklist(clinic, today, now, size=size, page=page, until=True)
        return read, read.changes_at

    parts = (today.isoformat(), HORIZON_DAYS, size, page, _SHAPE)
    return versions.kept_recall_value("recall-worklist", clinic.pk, parts, now, draw)
