"""Recomputing a clinic's recall rows in the background after its outcome parameters changed.

Activating or reverting a parameter set may move every forecast-based due date of the clinic: at
tens of thousands of patients that is minutes of work, too long for a request. The service calls
`request(clinic)` inside its transaction: a few queries whatever the clinic's size. It bumps the
clinic's `RecallRecompute.generation` and, once the transaction commits, queues
`recompute_recall` for that generation; `dermis worker` runs it.

The task rewrites the rows in batches of patients, in pk order, each batch in its own transaction
with the progress it made, so a crash leaves no half-written batch and running the task again
continues after the last committed one. A newer request (a second activation) bumps the
generation: the older task stops at its next batch and the newer one starts from the first
patient. The worklist shows "N of M done" until the row is finished.

The worker also sends reminders: a task works for at most `SLICE_SECONDS`, then queues its own
continuation a second later and returns, so the worker's next round sends what fell due meanwhile
before the recompute goes on.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django_tasks import task

from dermis.web.clinic import clock
from dermis.web.clinic.accounts.backends import READ_WITH_USER
from dermis.web.clinic.models import Clinic, RecallEntry, RecallRecompute
from dermis.web.clinic.scheduling import due_dates

log = logging.getLogger(__name__)

BATCH = 200  # patients per transaction: short locks, little lost to a crash
SLICE_SECONDS = 20.0  # a task's share of the worker before reminders get a round


def request(clinic: Clinic) -> RecallRecompute:
    """Ask for the clinic's rows to be recomputed (call inside the service's transaction)."""
    with transaction.atomic():
        row, _ = RecallRecompute.objects.select_for_update().get_or_create(clinic=clinic)
        row.generation += 1
        row.version = due_dates.version(clinic.pk)
        row.total = due_dates.candidates(clinic).count()
        row.done = row.last_patient_id = 0
        row.requested_at = clock.now()
        row.started_at = row.finished_at = None
        row.save()
    generation = row.generation
    transaction.on_commit(lambda: recompute_recall.enqueue(clinic.pk, generation))
    return row


def pending(clinic: Clinic) -> RecallRecompute | None:
    """The clinic's unfinished recomputation, if any: read with the signed-in user
    (`accounts.backends`), or one query by primary key."""
    if getattr(clinic, READ_WITH_USER, False):
        row = getattr(clinic, "recall_recompute", None)
        return row if row is not None and row.finished_at is None else None
    return RecallRecompute.objects.filter(clinic=clinic, finished_at__isnull=True).first()


def settle(clinics, since) -> int:
    """A synchronous recompute (`dermis recall recompute`) that began at `since` did the work
    of every request made before it: those are finished (their queued tasks then stop)."""
    return RecallRecompute.objects.filter(
        clinic__in=clinics, finished_at__isnull=True, requested_at__lte=since
    ).update(finished_at=clock.now(), done=F("total"))


def _claim_batch(clinic_id: int, generation: int) -> RecallRecompute | None:
    """The progress row, locked, if `generation` is still the newest and unfinished."""
    row = RecallRecompute.objects.select_for_update().filter(clinic_id=clinic_id).first()
    if row is None or row.generation != generation or row.finished_at is not None:
        return None
    return row


def run(clinic_id: int, generation: int, batch: int = BATCH, budget: float | None = None) -> str:
    """Recompute the clinic's rows for `generation`, continuing after the last committed batch;
    with a `budget` (seconds), stop after the batch that spends it and queue the rest.
    Returns what happened (counts only, never patient data)."""
    began = time.monotonic()
    clinic = Clinic.objects.filter(pk=clinic_id).first()
    if clinic is None:
        return "no such clinic"
    today = clock.today()
    with transaction.atomic():
        row = _claim_batch(clinic_id, generation)
        if row is None:
            return "superseded"
        stamp = due_dates.version(clinic_id)
        if row.started_at is None:
            # Rows of patients who no longer have anything due go first.
            keep = due_dates.candidates(clinic).values("pk")
            RecallEntry.objects.filter(clinic=clinic).exclude(patient_id__in=keep).delete()
            row.started_at = clock.now()
            row.total = due_dates.candidates(clinic).count()
            row.save(update_fields=["started_at", "total"])
    while True:
        with transaction.atomic():
            row = _claim_batch(clinic_id, generation)
            if row is None:
                return "superseded"
            patients = list(due_dates.candidates(clinic).filter(pk__gt=row.last_patient_id)[:batch])
            for patient in patients:
                due_dates.refresh(patient, today, stamp)
            if patients:
                row.last_patient_id = patients[-1].pk
                row.done = min(row.total, row.done + len(patients))
            if len(patients) < batch:
                row.done = max(row.done, row.total)
                row.finished_at = clock.now()
            row.save(update_fields=["last_patient_id", "done", "finished_at"])
        if row.finished_at is not None:
            log.info("recall rows recomputed: clinic %s, %s patients", clinic_id, row.done)
            return f"recomputed {row.done} patients"
        if budget is not None and time.monotonic() - began >= budget:
            later = recompute_recall.using(run_after=clock.now() + timedelta(seconds=1))
            later.enqueue(clinic_id, generation)
            return f"{row.done} of {row.total} patients; continues"


@task()
def recompute_recall(clinic_id: int, generation: int) -> str:
    """Recompute a clinic's recall rows for a parameter-set change (`run`), a slice at a time."""
    return run(clinic_id, generation, budget=SLICE_SECONDS)
