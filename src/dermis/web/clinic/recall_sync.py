"""The services' one line to keep the recall worklist's stored rows current.

Every write a patient's recall rows depend on calls `changed(patient)` inside its transaction
(see `scheduling/due_dates.py`); a change of the clinic's outcome parameters calls
`clinic_changed(clinic)`, which queues a background recomputation. The import is deferred: the
scheduling services that call this are themselves imported by the recall computation.

A bulk writer (the demo seeder) may wrap its work in `deferred()`: each patient's rows are then
rewritten once at the end instead of after every write.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_pending: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "dermis_recall_pending", default=None
)


def changed(patient) -> None:
    pending = _pending.get()
    if pending is not None:
        pending[getattr(patient, "pk", patient)] = patient
        return
    from dermis.web.clinic.scheduling import due_dates

    due_dates.changed(patient)


def contacts_moved(patient) -> None:
    """The patient's recall contact log gained contacts from elsewhere (a merge): their newest
    contact is looked for again."""
    from dermis.web.clinic.scheduling import recall_desk

    recall_desk.keep_latest_contact(getattr(patient, "pk", patient))


def clinic_changed(clinic) -> None:
    """The clinic's outcome parameters changed: its rows are recomputed in the background
    (queued when the caller's transaction commits; `scheduling/recompute.py`)."""
    from dermis.web.clinic.scheduling import recompute

    recompute.request(clinic)


@contextmanager
def deferred(refresh: bool = True) -> Iterator[None]:
    """Collect the changes made inside; rewrite each changed patient's rows once on leaving
    (`refresh=False`: the caller recomputes them itself)."""
    pending: dict = {}
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    if refresh:
        for patient in pending.values():
            changed(patient)
