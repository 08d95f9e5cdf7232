"""The append-only audit trail."""

from __future__ import annotations

import contextlib
import json

from django.conf import settings
from django.db import DatabaseError, connections, models, router, transaction

from dermis.web.clinic import clock
from dermis.web.clinic.audit_chain import GENESIS, link
from dermis.web.clinic.models.labels import QuickLabels
from dermis.web.clinic.models.loading import FastLoad
from dermis.web.clinic.together import several_in_one_string


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("the audit log is append-only")

    def delete(self):
        raise PermissionError("the audit log is append-only")

    def bulk_create(self, *args, **kwargs):
        raise PermissionError("audit events are written one at a time, each chained to the last")

    def bulk_update(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")


class AuditQuerySet(AppendOnlyQuerySet):
    def about_patient(self, patient_id: int):
        """The events about one patient: their own (`patient_id_ref`) and those of a list page
        that showed them among others (`AuditEventPatient`). Selected by id from both indexes
        together, so the database looks up the few ids and never scans the trail."""
        own = AuditEvent.objects.filter(patient_id_ref=patient_id).order_by().values("pk")
        listed = (
            AuditEventPatient.objects.filter(patient_id_ref=patient_id)
            .order_by()
            .values("event_id")
        )
        # And the events that list the same patients as one of those (`listed_like`).
        alike = AuditEvent.objects.filter(listed_like__in=listed).order_by().values("pk")
        return self.filter(pk__in=own.union(listed, alike, all=True))


class AuditChainHead(FastLoad, models.Model):
    """The last link of the audit chain (one row). Each writer locks it, takes the next number
    and the previous hash, and moves it on in the same transaction as the event it writes."""

    seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)

    def __str__(self) -> str:
        return f"audit chain head {self.seq}"

    @classmethod
    def locked(cls) -> AuditChainHead:
        """The head row, locked for this transaction; made first if missing (two writers that
        both find none insert one row between them, then both wait for its lock)."""
        head = cls.objects.select_for_update().filter(pk=1).first()
        if head is None:
            cls.objects.bulk_create([cls(pk=1)], ignore_conflicts=True)
            head = cls.objects.select_for_update().get(pk=1)
        return head


class AuditEvent(FastLoad, QuickLabels, models.Model):
    """Who saw or changed what in a patient's record, when and from where. Append-only.

    The patient is kept as a plain id (not a foreign key) so the trail outlives an erasure.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        SIGN = "sign", "Signed"
        DOWNLOAD = "download", "Downloaded"
        EXPORT = "export", "Exported"
        ERASE = "erase", "Erased"
        DENIED = "denied", "Access refused"

    # Every read by time is a clinic's, through the indexes below (clinic first): an index of
    # `at` or of `clinic` alone would only slow each event's INSERT (0028).
    at = models.DateTimeField(default=clock.now)
    clinic = models.ForeignKey(
        "clinic.Clinic",
        null=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    patient_id_ref = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    summary = models.CharField(max_length=200, blank=True, help_text="never patient data")
    path = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    # An event about several patients that lists the same as an earlier one (a worklist viewed
    # again): that event's id, its patients not written again (`AuditEventPatient`). The chain
    # hash covers the patients all the same, as the verifier reads them from there.
    listed_like = models.BigIntegerField(null=True, blank=True)

    # The hash chain (audit_chain.py). Null only on a row not written by save(): verify flags it.
    seq = models.BigIntegerField(null=True, blank=True)
    chain_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (see seq)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # The audit log page reads a clinic's newest events, or one user's, a page at a time.
            models.Index(fields=["clinic", "-at", "-id"], name="audit_clinic_newest"),
            models.Index(
                fields=["clinic", "username", "-at", "-id"], name="audit_clinic_user_newest"
            ),
            # A patient's events listed like another's (`about_patient`); only those are indexed.
            models.Index(
                fields=["listed_like"],
                name="audit_listed_like",
                condition=models.Q(listed_like__isnull=False),
            ),
        ]
        constraints = [
            # Partial, so that SQLite adds it as an index instead of rebuilding the table (which
            # would drop its append-only triggers).
            models.UniqueConstraint(
                fields=["seq"], condition=models.Q(seq__isnull=False), name="audit_seq_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        """An event is written once, chained to the one before (as `append_many` writes several)."""
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        type(self).append_many([self])

    @classmethod
    def append_many(cls, events: list[AuditEvent]) -> list[AuditEvent]:
        """Chain new events in order and write them in one INSERT (a list page that shows many
        patients' records writes its events together): the chain's head is locked once and moved
        past the last of them, in the caller's transaction (or one of its own)."""
        if not events:
            return []
        if any(event.pk is not None for event in events):
            raise PermissionError("the audit log is append-only")
        alias = router.db_for_write(cls)
        if _in_two_trips(connections[alias]):
            written = _append_in_two_trips(cls, alias, events)
            if written is not None:
                return written
        with transaction.atomic(using=alias):
            head = _chain(events, *_locked_head(alias))
            written = _insert(cls, events, head=head)
        return written

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")

    def patient_ids(self) -> list[int]:
        """The patients this event is about: its own, or those it lists (in order of id)."""
        if self.patient_id_ref is not None:
            return [self.patient_id_ref]
        rows = AuditEventPatient.objects.filter(event_id=self.listed_like or self.pk)
        return sorted(rows.values_list("patient_id_ref", flat=True))


class AuditEventPatient(FastLoad, models.Model):
    """A patient an event is about, where one event is about several: a list page that shows fifty
    patients' records writes one event, its patients here (`audit.record_many`), instead of fifty
    events. The event's chain hash covers them (`audit_chain.canonical_event`), and they are
    append-only as the events are (audit_triggers.py)."""

    # Written with its event in one statement, and neither can be changed after: a foreign key
    # constraint would guard nothing more, and its check of each row at commit cost a worklist
    # view 0.2 ms of its 1.4 ms audit.
    event = models.ForeignKey(
        AuditEvent, on_delete=models.PROTECT, related_name="listed", db_constraint=False
    )
    patient_id_ref = models.BigIntegerField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [
            # A patient's events (their data export, erasure, the log's patient filter).
            models.Index(fields=["patient_id_ref", "event"], name="audit_listed_patient"),
        ]

    def __str__(self) -> str:
        return f"patient {self.patient_id_ref} in audit event {self.event_id}"

    def save(self, *args, **kwargs):
        raise PermissionError("listed patients are written with their event (append_many)")

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")


# Every column an event is written with, and its PostgreSQL type (tests check it against the
# model's fields): `_insert` sends the events as one JSON array of rows of these columns.
COLUMNS = (
    ("at", "timestamptz"),
    ("clinic_id", "bigint"),
    ("user_id", "integer"),
    ("username", "text"),
    ("patient_id_ref", "bigint"),
    ("action", "text"),
    ("object_type", "text"),
    ("object_id", "text"),
    ("summary", "text"),
    ("path", "text"),
    ("ip_address", "inet"),
    ("listed_like", "bigint"),
    ("seq", "bigint"),
    ("chain_hash", "text"),
)

NAMES = tuple(column for column, _ in COLUMNS)
IP, AT, LIKE = NAMES.index("ip_address"), NAMES.index("at"), NAMES.index("listed_like")


def _chain(events: list, seq: int, last: str) -> tuple[int, str]:
    """Number and hash `events` in order after the head (`seq`, `last`); the new head."""
    for event in events:
        seq += 1
        event.seq = seq
        event.chain_hash = last = link(last, event)
    return seq, last


def _in_two_trips(connection) -> bool:
    """Whether events may be written in two round trips of their own (`_append_in_two_trips`):
    where several statements go as one string, outside any transaction of the caller's."""
    return several_in_one_string(connection)


def _append_in_two_trips(model, alias: str, events: list) -> list | None:
    """Write `events` in a transaction of their own in two round trips where Django's would take
    four (BEGIN, the head's read, the INSERT, COMMIT, each waited for): BEGIN goes with the
    locked read of the head, COMMIT with the INSERT. Anything that fails rolls the transaction
    back and is raised; None (rolled back, nothing written) when there is no head yet, for the
    caller's own path to make it."""
    connection = connections[alias]
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        try:
            cursor.execute(f"BEGIN; SELECT seq, last_hash FROM {table} WHERE id = 1 FOR UPDATE")
            cursor.nextset()
            row = cursor.fetchone()
            if row is None:
                cursor.execute("ROLLBACK")
                return None
            head = _chain(events, row[0], row[1])
            sql, params = _insert_statement(connection, model, events, head)
            cursor.execute(f"{sql}; COMMIT", params)
            found = cursor.fetchall()
            cursor.nextset()
            if cursor.statusmessage != "COMMIT":  # PostgreSQL answers ROLLBACK to a failed one
                raise DatabaseError(f"audit events not committed: {cursor.statusmessage}")
        except BaseException:
            # Where the connection is gone, the transaction went with it.
            with contextlib.suppress(DatabaseError):
                cursor.execute("ROLLBACK")
            raise
    return _saved(events, found, alias)


def _locked_head(alias: str) -> tuple[int, str]:
    """The chain head's number and hash, locked for this transaction (SELECT ... FOR UPDATE where
    the database has it; SQLite's writers queue at BEGIN IMMEDIATE). Made first if missing."""
    connection = connections[alias]
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, last_hash FROM {table} WHERE id = 1{lock}")
        row = cursor.fetchone()
    if row is None:
        head = AuditChainHead.locked()
        return head.seq, head.last_hash
    return row[0], row[1]


def _move_head(alias: str, seq: int, last: str) -> None:
    connection = connections[alias]
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET seq = %s, last_hash = %s WHERE id = 1", [seq, last])


def _insert(model, events: list, head: tuple[int, str]) -> list:
    """Write `events` in one INSERT and move the chain's head to `head` (its number and hash).

    On PostgreSQL one statement does both (the head's UPDATE in a WITH), and the rows go as one
    JSON parameter, read back into typed columns by `json_to_recordset`: the values go as they
    are, without Django preparing each field of each row (75 events took 14 ms through
    `bulk_create`, most of it that), and one text is quoted where an array per column had each
    of its values quoted and checked (a recall worklist writes a hundred events a view).
    Elsewhere `bulk_create`, then the head's UPDATE."""
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        written = models.QuerySet(model=model, using=alias).bulk_create(events)
        listed = [
            AuditEventPatient(event_id=event.pk, patient_id_ref=patient)
            for event in written
            for patient in _listed(event)
        ]
        models.QuerySet(model=AuditEventPatient, using=alias).bulk_create(listed)
        _move_head(alias, *head)
        return written
    sql, params = _insert_statement(connection, model, events, head)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return _saved(events, found, alias)


def _insert_statement(connection, model, events: list, head: tuple[int, str]) -> tuple[str, list]:
    """PostgreSQL's one statement that inserts `events` and moves the head (`_insert`), and
    inserts the patients an event lists (a second JSON array, joined to the events by number)."""
    names = ", ".join(f'"{column}"' for column, _ in COLUMNS)
    typed = ", ".join(f'"{column}" {kind}' for column, kind in COLUMNS)
    table = model._meta.db_table
    head_table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    head_sql = f"WITH head AS (UPDATE {head_table} SET seq = %s, last_hash = %s WHERE id = 1)"
    insert = (
        f"INSERT INTO {table} ({names}) SELECT {names} "
        f"FROM json_to_recordset(%s::json) AS rows({typed})"
    )
    rows = [[getattr(event, column) for column, _ in COLUMNS] for event in events]
    likes = [getattr(event, "like_candidate", None) for event in events]
    for row, like in zip(rows, likes, strict=True):
        row[AT] = row[AT].isoformat()
        row[IP] = row[IP] or None  # as Django stores a blank address
        row[LIKE] = like[0] if like else None
    payload = [dict(zip(NAMES, row, strict=True)) for row in rows]
    if any(likes):
        # An earlier event whose patients these are: taken where it is there with the hash it
        # was written with (else the patients are written, as for any event).
        for row, like in zip(payload, likes, strict=True):
            row["like_hash"] = like[1] if like else None
        chosen = ", ".join("prior.id" if c == "listed_like" else f'rows."{c}"' for c in NAMES)
        insert = (
            f"INSERT INTO {table} ({names}) SELECT {chosen} "
            f"FROM json_to_recordset(%s::json) AS rows({typed}, like_hash text) "
            f"LEFT JOIN {table} AS prior "
            "ON prior.id = rows.listed_like AND prior.chain_hash = rows.like_hash"
        )
    payload = _json(payload)
    listed = [[event.seq, patient] for event in events for patient in _listed(event)]
    if not listed:
        return f"{head_sql} {insert} RETURNING id, listed_like", [*head, payload]
    listed_table = AuditEventPatient._meta.db_table
    sql = (
        f"{head_sql}, written AS ({insert} RETURNING id, seq, listed_like), "
        f"listed AS (INSERT INTO {listed_table} (event_id, patient_id_ref) "
        "SELECT written.id, pairs.patient FROM written "
        "JOIN json_to_recordset(%s::json) AS pairs(seq bigint, patient bigint) USING (seq) "
        "WHERE written.listed_like IS NULL) "
        "SELECT id, listed_like FROM written ORDER BY seq"
    )
    pairs = _json([{"seq": seq, "patient": patient} for seq, patient in listed])
    return sql, [*head, payload, pairs]


def _listed(event) -> list[int]:
    """The patients an event lists (`AuditEventPatient`), as its writer set them."""
    return list(getattr(event, "listed_ids", None) or ())


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _saved(events: list, found: list[tuple], alias: str) -> list:
    """`events` marked as the stored rows `found` (each its id, and whose patients it lists
    like)."""
    for event, (pk, like) in zip(events, found, strict=True):
        event.pk, event.listed_like = pk, like
        event._state.adding = False
        event._state.db = alias
    return events
