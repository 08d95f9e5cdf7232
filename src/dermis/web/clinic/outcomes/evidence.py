"""The clinic's own evidence: its follow-up grades as the core's `FollowUpRecord`s, and the
calibration report over them (`dermis.core.outcome.clinic_calibration`).

Translation only, the same as the record page's forecast (`forecasting.py`):

- a grade counts when the patient's phototype is recorded, its concern is one the outcome model
  covers, it has a baseline (its own, else the severity of that concern on that area in the plan
  it was graded under, else in the active plan) and there is at least one signed session on its
  area;
- the grade becomes an improvement band with `forecasting.improvement_band` (grade +/- 0.5 on
  the concern's scale against the baseline);
- the course: the modality of the plan's course that treats that concern on that area (else the
  latest signed session's on the area); its sessions are the signed sessions of that modality on
  that area; device and depth or tip are the latest such session's, as on the record page;
- the patient: age at the course's first session, sex and phototype (sun and smoking are not
  recorded: the model's defaults).

The core sets aside grades before the first session or within the swelling window after one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch
from django.utils import timezone

from dermis.core.errors import InputError
from dermis.core.outcome import CONCERNS, OutcomeParameters, make_patient, make_treatment
from dermis.core.outcome.clinic_calibration import CalibrationReport, calibration_report
from dermis.core.outcome.clinic_records import FollowUpRecord
from dermis.core.planning import Plan
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.models import Clinic, Patient, TreatmentPlan, TreatmentSession
from dermis.web.clinic.outcomes.forecasting import improvement_band
from dermis.web.clinic.outcomes.parameter_sets import active_parameters

DEFAULT_DRAWS = 400
CACHE_SECONDS = 3600

Progress = Callable[[str], None]


def report_draws() -> int:
    """Draws per course for the report and the refit (setting DERMIS_CALIBRATION_DRAWS)."""
    return int(getattr(settings, "DERMIS_CALIBRATION_DRAWS", DEFAULT_DRAWS))


def _plan_course(plan_content: dict | None, area: str, concern: str) -> tuple[str, float | None]:
    """(modality, severity) of the plan's treatment of `concern` on `area`, or ("", None)."""
    if not plan_content:
        return "", None
    for course in Plan.from_dict(plan_content).courses:
        for t in course.treatments:
            if (t.area, t.concern) == (area, concern):
                return course.modality, t.severity
    return "", None


def _patient_records(patient: Patient) -> list[FollowUpRecord]:
    signed = [s for s in patient.sessions.all() if s.status == TreatmentSession.Status.FINAL]
    grades = list(patient.grades.all())
    if not signed or not grades or not patient.fitzpatrick:
        return []
    kb = knowledge()
    # the active plan, as core_inputs.active_plan, from the prefetched plans (one query in all)
    active = max(
        (p for p in patient.plans.all() if p.status == TreatmentPlan.Status.ACTIVE),
        key=lambda p: p.version,
        default=None,
    )
    records = []
    for g in grades:
        if g.concern not in CONCERNS or g.concern not in kb.concerns:
            continue
        on_area = [s for s in signed if any(a.area == g.area for a in s.areas.all())]
        if not on_area:
            continue
        plan = g.plan or active
        modality, severity = _plan_course(plan.content if plan else None, g.area, g.concern)
        modality = modality or on_area[-1].modality
        course = [s for s in on_area if s.modality == modality]
        baseline = g.baseline if g.baseline is not None else severity
        if not course or baseline is None:
            continue
        band = improvement_band(kb.scales[kb.concerns[g.concern].scale], float(baseline), g.grade)
        if band is None:
            continue
        last = course[-1]
        area = next(a for a in last.areas.all() if a.area == g.area)
        depth = float(area.depth_mm) if area.depth_mm is not None else None
        tip = area.tip or None
        dates = tuple(sorted({timezone.localtime(s.performed_at).date() for s in course}))
        try:
            who = make_patient(patient.age_on(dates[0]), patient.sex, patient.fitzpatrick)
            try:
                treatment = make_treatment(modality, g.concern, last.device, depth, tip)
            except InputError:  # a device or tip the model does not know: the modality's default
                treatment = make_treatment(modality, g.concern, None, depth)
        except InputError:
            continue
        records.append(
            FollowUpRecord(str(patient.pk), who, treatment, dates, g.graded_on, *band)
        )  # fmt: skip
    return records


def clinic_records(clinic: Clinic, progress: Progress | None = None) -> list[FollowUpRecord]:
    """Every usable follow-up grade of the clinic's patients, as the core's records."""
    patients = (
        Patient.objects.filter(clinic=clinic, grades__isnull=False)
        .distinct()
        .order_by("pk")
        .prefetch_related(
            "grades__plan",
            "plans",
            Prefetch(
                "sessions",
                TreatmentSession.objects.order_by("performed_at", "pk").prefetch_related("areas"),
            ),
        )
    )
    records: list[FollowUpRecord] = []
    for i, patient in enumerate(patients.iterator(chunk_size=500), start=1):
        records += _patient_records(patient)
        if progress and i % 500 == 0:
            progress(f"read {i} patients, {len(records)} follow-up grades")
    return records


@dataclass(frozen=True)
class ClinicReport:
    """The report (None when the clinic has no usable follow-up yet) and what it was run on."""

    report: CalibrationReport | None
    parameter_set: str
    follow_ups: int  # usable records read from the database (before the core's set-asides)


def _key(records: list[FollowUpRecord], version: str, n_draws: int) -> str:
    blob = json.dumps([r.to_dict() for r in records], sort_keys=True)
    digest = hashlib.sha256(f"{version}|{n_draws}|{blob}".encode()).hexdigest()
    return f"dermis:calibration:{digest}"


def report_for(
    records: list[FollowUpRecord], params: OutcomeParameters, progress: Progress | None = None
) -> CalibrationReport:
    """The core's report on `records` (not empty), cached by the records, the set's version and
    the number of draws."""
    n_draws = report_draws()
    key = _key(records, params.version, n_draws)
    report = cache.get(key)
    if report is None:
        if progress:
            progress(f"forecasting {len(records)} follow-up grades ({n_draws} draws per course)")
        report = calibration_report(records, params, n_draws=n_draws)
        cache.set(key, report, CACHE_SECONDS)
    return report


def clinic_report(
    clinic: Clinic,
    parameters: OutcomeParameters | None = None,
    progress: Progress | None = None,
) -> ClinicReport:
    """Where the clinic's grades fell in the bands of its active parameter set (or of
    `parameters`)."""
    params = parameters or active_parameters(clinic)
    records = clinic_records(clinic, progress)
    if not records:
        return ClinicReport(None, params.version, 0)
    return ClinicReport(report_for(records, params, progress), params.version, len(records))


def report_svg(report: CalibrationReport) -> bytes:
    """The core's calibration chart as SVG (deterministic: no date, fixed ids), cached."""
    import tempfile
    from pathlib import Path

    import matplotlib

    from dermis.core.outcome.clinic_calibration import plot_calibration
    from dermis.web.clinic.outcomes.forecasting import _METADATA, _plot_lock

    blob = json.dumps(report.to_dict(), sort_keys=True)
    key = f"dermis:calibration-svg:{hashlib.sha256(blob.encode()).hexdigest()}"
    svg = cache.get(key)
    if svg is None:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "calibration.svg"
            with _plot_lock, matplotlib.rc_context({"svg.hashsalt": "dermis"}):
                plot_calibration(report, out)
            svg = _METADATA.sub(b"", out.read_bytes(), count=1)
        cache.set(key, svg, CACHE_SECONDS)
    return svg
