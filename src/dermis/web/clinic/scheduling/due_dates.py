"""Stored recall rows: each patient's next maintenance due date and unbooked series, kept current.

The worklist used to forecast every candidate patient on every view. Now the services call
`changed(patient)` inside the transaction of every write the rows depend on (a session signed, a
grade recorded, a plan accepted, revised or completed, an appointment booked, moved, cancelled or
given a status), and a change of the clinic's outcome parameters queues a recomputation of all
its rows (`recompute.py`, in the background); the rows are rewritten from `recall.py`'s own
computation, so the stored list says what the computed one would. The worklist then reads one
page of rows (`recall_list.py`).

Time alone does not change a row: the due date is a date, and "booked" is kept as the latest start
of an appointment still held, which the worklist compares with now. A change to the knowledge
base (a deployment) needs `dermis recall recompute`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date

from django.db import transaction
from django.db.models import Max, Q

from dermis.web.clinic import clock
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.models import (
    Clinic,
    Patient,
    RecallEntry,
    TreatmentPlan,
    TreatmentSession,
)
from dermis.web.clinic.outcomes.parameter_sets import active_parameters
from dermis.web.clinic.scheduling import recall

log = logging.getLogger(__name__)

ALGORITHM = "1"  # bump when the computation changes: `dermis recall recompute` then redoes all
SPARK_W, SPARK_H, SPARK_POINTS = 120, 32, 48


def version(clinic_id: int) -> str:
    """The inputs' version: the computation, the knowledge base and the parameter set."""
    return f"{ALGORITHM}/{knowledge().version}/{active_parameters(clinic_id).version}"[:120]


def sparkline(result) -> dict | None:
    """The forecast's median as a small polyline (the full chart is one link away)."""
    f = result.forecast if result else None
    if f is None or len(f.days) < 2:
        return None
    step = max(1, len(f.days) // SPARK_POINTS)
    days, p50 = f.days[::step], f.p50[::step]
    top = max(float(p50.max()), f.noticeable_threshold, 1.0)
    span = float(days[-1] - days[0]) or 1.0

    def xy(day, value) -> str:
        x = (float(day - days[0]) / span) * SPARK_W
        y = SPARK_H - max(0.0, float(value)) / top * (SPARK_H - 2) - 1
        return f"{x:.1f},{y:.1f}"

    threshold_y = SPARK_H - f.noticeable_threshold / top * (SPARK_H - 2) - 1
    return {
        "points": " ".join(xy(d, v) for d, v in zip(days, p50, strict=True)),
        "threshold_y": f"{threshold_y:.1f}",
        "width": SPARK_W,
        "height": SPARK_H,
        "label": result.summary(),
    }


def entries_for(patient: Patient, today: date, stamp: str) -> list[RecallEntry]:
    """The patient's rows as `recall.py` computes them (unsaved)."""
    out: list[RecallEntry] = []
    common = {"clinic_id": patient.clinic_id, "patient": patient, "version": stamp}
    due = recall.maintenance_unbooked(patient, today)
    if due is not None:
        held = patient.appointments.filter(
            kind__in=recall.AHEAD, status__in=recall.HOLDING
        ).aggregate(until=Max("start"))["until"]
        result = due.forecast
        chart = result is not None and result.forecast is not None
        out.append(
            RecallEntry(
                **common,
                section=RecallEntry.Section.MAINTENANCE,
                due=due.due,
                basis=due.basis,
                modality=due.last_session.modality,
                why=due.why,
                spark=sparkline(result),
                chart=chart,
                no_chart_reason="" if chart else (result.reason if result else "")[:200],
                last_session=due.last_session,
                minutes=due.minutes,
                booked_until=held,
            )
        )
    plans = patient.plans.filter(status=TreatmentPlan.Status.ACTIVE).order_by("pk")
    for plan in plans:
        for row in recall.incomplete_for(plan):
            out.append(
                RecallEntry(
                    **common,
                    section=RecallEntry.Section.SERIES,
                    due=row.last,
                    basis=RecallEntry.Basis.SERIES,
                    modality=row.modality,
                    plan=plan,
                    course=row.course,
                    planned=row.planned,
                    counted=row.counted,
                )
            )
    return out


def refresh(patient: Patient, today: date | None = None, stamp: str | None = None) -> int:
    """Rewrite the patient's rows; returns how many there are now."""
    today = today or clock.today()
    stamp = stamp or version(patient.clinic_id)
    rows = entries_for(patient, today, stamp)
    with transaction.atomic():
        RecallEntry.objects.filter(patient=patient).delete()
        RecallEntry.objects.bulk_create(rows)
    return len(rows)


def changed(patient: Patient | int | None) -> None:
    """Something the patient's recall rows depend on changed: rewrite them now (call inside the
    service's transaction, after its write)."""
    if patient is None:
        return
    if not isinstance(patient, Patient):
        patient = Patient.objects.filter(pk=patient).first()
        if patient is None:
            return
    refresh(patient)


def candidates(clinic: Clinic | int):
    """Patients who may have rows: a signed session, or an active plan."""
    clinic_id = clinic if isinstance(clinic, int) else clinic.pk
    has = Q(sessions__status=TreatmentSession.Status.FINAL) | Q(
        plans__status=TreatmentPlan.Status.ACTIVE
    )
    ids = Patient.objects.filter(clinic_id=clinic_id).filter(has).values("pk").distinct()
    return Patient.objects.filter(pk__in=ids).order_by("pk")


def recompute(
    clinics: Iterable[Clinic], progress: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """Rewrite every row of the clinics, patient by patient (each in its own transaction).
    `progress(n)` is told after each patient. Returns (patients, rows)."""
    today = clock.today()
    patients = rows = 0
    for clinic in clinics:
        stamp = version(clinic.pk)
        with transaction.atomic():
            keep = candidates(clinic).values("pk")
            RecallEntry.objects.filter(clinic=clinic).exclude(patient_id__in=keep).delete()
        for patient in candidates(clinic).iterator(chunk_size=500):
            rows += refresh(patient, today, stamp)
            patients += 1
            if progress:
                progress(1)
    return patients, rows


def stale(clinic: Clinic) -> int:
    """Rows computed with other inputs than the clinic's current ones."""
    return RecallEntry.objects.filter(clinic=clinic).exclude(version=version(clinic.pk)).count()
