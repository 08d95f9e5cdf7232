"""The recall worklist: who to contact, read from the stored rows (`due_dates.py`).

Any staff member may work it: the front desk see who is due and for what kind of treatment, with
phone and email and the last contact; clinical roles also see why (the forecast or the interval),
the forecast's sparkline and its chart. Each row links to the patient's recall page
(`recall_patient.py`: the contact log, and free slots to offer).
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from dermis.web.clinic.access import ANY_STAFF, actor_of, staff_required
from dermis.web.clinic.audit import Action, record_many
from dermis.web.clinic.models import RecallContact
from dermis.web.clinic.scheduling import recall, recall_list, recompute
from dermis.web.clinic.scheduling.views import recall_patient, recall_rows


@staff_required(ANY_STAFF)
def recall_worklist(request):
    actor = actor_of(request)
    now = timezone.now()
    today = timezone.localdate(now)
    page = _page_number(request.GET.get("page"))
    work = recall_list.kept_worklist(actor.clinic, today, now, size=recall.PAGE_ROWS, page=page)
    # The page shows each listed patient's contact details (and, to clinical roles, forecasts):
    # one audit event listing them, written on every view, kept page or not.
    record_many(actor, Action.VIEW, list(work.patients().values()), summary="recall worklist")
    clinical = actor.is_clinical
    maintenance_rows, incomplete_rows, follow_ups_rows = work.drawn_once(
        ("page", clinical, timezone.get_current_timezone_name()),
        lambda: _rows(work, clinical=clinical, today=today),
    )
    context = {
        "maintenance_rows": maintenance_rows,
        "incomplete_rows": incomplete_rows,
        "follow_ups_rows": follow_ups_rows,
        "maintenance": work.maintenance,
        "incomplete": work.incomplete,
        "follow_ups": work.follow_ups,
        "clinical": clinical,
        "horizon": recall.HORIZON_DAYS,
        "today": today,
        "recomputing": recompute.pending(actor.clinic),
        "page": page,
        "first_row": recall.PAGE_ROWS * (page - 1) + 1,
        "per_page": recall.PAGE_ROWS,
        "more": work.more,
    }
    return render(request, "clinic/scheduling/recall.html", context)


def _rows(work: recall_list.Page, *, clinical: bool, today) -> tuple:
    """The three sections' table rows (each row given its last contact's label)."""
    labels = dict(RecallContact.Outcome.choices) | {RecallContact.Outcome.SNOOZE: "Snoozed"}
    for row in [*work.maintenance, *work.incomplete, *(f.appointment for f in work.follow_ups)]:
        row.contact_label = labels.get(row.contact_outcome or "", "")
    return (
        recall_rows.maintenance(work.maintenance, clinical=clinical, today=today),
        recall_rows.incomplete(work.incomplete, clinical=clinical),
        recall_rows.follow_ups(work.follow_ups),
    )


def _page_number(raw: str | None) -> int:
    """`?page=N` (1 if missing or not a whole number from 1 to 10,000)."""
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return number if 1 <= number <= 10_000 else 1


urlpatterns = [
    path("recall/", recall_worklist, name="recall-worklist"),
    *recall_patient.urlpatterns,
]
