"""The services' one line to keep the recall worklist's stored rows current.

Every write a patient's recall rows depend on calls `changed(patient)` inside its transaction
(see `scheduling/due_dates.py`). The import is deferred: the scheduling services that call this
are themselves imported by the recall computation.
"""

from __future__ import annotations


def changed(patient) -> None:
    from dermis.web.clinic.scheduling import due_dates

    due_dates.changed(patient)


def clinic_changed(clinic) -> None:
    from dermis.web.clinic.scheduling import due_dates

    due_dates.clinic_changed(clinic)
