"""Data of the record page's charting panels: sessions, photos, grades and the forecast.

The record page asks for them for clinical staff only (`patients/views.py`), and draws them with
its Jinja2 partials (`jinja2/clinic/sessions/_patient_sessions.html` and its siblings).
"""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone

from dermis.web.clinic import core_inputs
from dermis.web.clinic.charting.selectors import course_progress
from dermis.web.clinic.core_inputs import active_plan, knowledge
from dermis.web.clinic.models import OPEN_STATUSES, Appointment, Photo
from dermis.web.clinic.outcomes import selectors
from dermis.web.clinic.outcomes.parameter_sets import ACTIVE_SET
from dermis.web.clinic.prepared import PreparedRows
from dermis.web.clinic.together import Read

RECENT_PHOTOS = 6


def _area(key: str) -> str:
    areas = knowledge().areas
    return areas[key].name if key in areas else key


# The record page's panels: composed once per process (clinic/prepared.py).
UPCOMING_TREATMENTS = PreparedRows(
    Appointment,
    lambda patient, start: (
        Appointment.objects.filter(
            patient_id=patient,
            start__gte=start,
            status__in=(*OPEN_STATUSES, Appointment.Status.ARRIVED),
            kind__in=[Appointment.Kind.TREATMENT, Appointment.Kind.MAINTENANCE],
            session__isnull=True,
        )
        .select_related("practitioner")
        .order_by("start")
    ),
    patient=int,
    start=datetime,
)
PHOTOS = PreparedRows(
    Photo,
    lambda patient: Photo.objects.filter(patient_id=patient).order_by(
        "-taken_on", "-uploaded_at", "-pk"
    ),
    patient=int,
)


def _start_of(today) -> datetime:
    return datetime.combine(today, time.min, tzinfo=timezone.get_current_timezone())


def record_reads(patient) -> list[Read | None]:
    """What these panels read of their own (beside `core_inputs`' reads), for the record page to
    send together (`prepared.read_together`): the treatments to come, the photos, and the
    forecast's parameter set."""
    start = _start_of(timezone.localdate())
    return [
        UPCOMING_TREATMENTS.ahead(5, patient=patient.pk, start=start),
        PHOTOS.ahead(None, patient=patient.pk),
        ACTIVE_SET.ahead(1, clinic=patient.clinic_id),
    ]


def sessions_panel(patient) -> dict:
    read = core_inputs.sessions(patient)  # inside the record page's read_once: read once
    sessions = (
        read[::-1]
        if read is not None
        else list(patient.sessions.prefetch_related("areas").order_by("-performed_at", "-pk"))
    )
    today = timezone.localdate()
    upcoming = UPCOMING_TREATMENTS.rows(
        5, patient=patient.pk, start=_start_of(today), known={"patient": patient}
    )
    progress = course_progress(patient, active_plan(patient), sessions)
    return {
        "sessions": [
            {"row": s, "areas": ", ".join(_area(a.area) for a in s.areas.all())} for s in sessions
        ],
        "upcoming": [
            {"row": a, "chartable": timezone.localtime(a.start).date() <= today} for a in upcoming
        ],
        "progress": progress,
    }


def photos_panel(patient) -> dict:
    photos = PHOTOS.rows(None, patient=patient.pk, known={"patient": patient})
    per_area: dict[str, int] = {}
    for p in photos:
        per_area[p.area] = per_area.get(p.area, 0) + 1
    comparable = next((area for area, n in per_area.items() if n >= 2), "")
    return {
        "recent": [
            {
                "photo": p,
                "alt": f"{_area(p.area)}, {p.get_stage_display().lower()}, {p.taken_on:%d %b %Y}",
            }
            for p in photos[:RECENT_PHOTOS]
        ],
        "count": len(photos),
        "comparable": comparable,
        "always": True,  # a non-empty dict even for a patient without photos
    }


def _label(scale, value: float | None) -> str:
    if value is None:
        return ""
    return scale.labels.get(f"{value:g}", "") if scale else ""


def grades_panel(patient) -> dict:
    kb = knowledge()
    rows, scales = [], {}
    for g in reversed(core_inputs.grades(patient)):
        concern = kb.concerns.get(g.concern)
        scale = kb.scales.get(concern.scale) if concern else None
        if scale:
            scales[scale.name] = f"{scale.name} {scale.min:g}-{scale.max:g}"
        rows.append(
            {
                "row": g,
                "area": _area(g.area),
                "concern": concern.name if concern else g.concern,
                "grade": f"{g.grade:g}",
                "grade_label": _label(scale, g.grade),
                "baseline": f"{g.baseline:g}" if g.baseline is not None else "",
                "change": f"{g.grade - g.baseline:+g}" if g.baseline is not None else "",
            }
        )
    return {"grades": rows, "scales": list(scales.values()), "always": True}


def forecast_panel(patient) -> dict:
    panel = selectors.forecast_panel(patient)
    return {"result": panel, "alt": panel.summary, "falls_below": panel.below_noticeable_on}
