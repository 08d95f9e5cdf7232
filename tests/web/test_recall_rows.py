"""The recall worklist's rows, written out in Python (`views/recall_rows.py`), are the markup its
template's loops wrote, character for character: the loops are kept as the reference
(`recall_rows_reference.html`), rendered beside the rows for a varied clinic, for clinical and
front-desk staff, with names, phones and emails that need escaping."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.template import engines
from django.utils import timezone

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient, RecallContact
from dermis.web.clinic.patients import services as patients
from dermis.web.clinic.scheduling import due_dates, recall_desk, recall_list
from dermis.web.clinic.scheduling.views import recall_rows
from tests.web.test_recall_store import _clinic_of_many
from tests.web.test_recall_worklist import CADENCE_DAYS, _patient, _treated

REFERENCE = (Path(__file__).parent / "recall_rows_reference.html").read_text()


def _reference(section: str, rows: list, *, clinical: bool, today) -> str:
    template = engines["django"].from_string(REFERENCE)
    context = {"section": section, "rows": rows, "clinical": clinical, "today": today}
    return template.render(context).strip("\n")


def _page(world):
    now = timezone.now()
    today = timezone.localdate(now)
    work = recall_list.worklist(world.northgate, today, now, size=50)
    labels = dict(RecallContact.Outcome.choices) | {RecallContact.Outcome.SNOOZE: "Snoozed"}
    for row in [*work.maintenance, *work.incomplete, *(f.appointment for f in work.follow_ups)]:
        row.contact_label = labels.get(row.contact_outcome or "", "")
    return work, today


@pytest.fixture
def varied(world):
    made = _clinic_of_many(world, extra=6)
    desk = Actor.of_staff(world.fran)
    bea, cal = Patient.objects.get(given_name="Bea"), Patient.objects.get(given_name="Cal")
    patients.update_patient(
        Actor.of_staff(world.alice), bea, family_name="O'Brien & <Sons>", phone="", email=""
    )
    recall_desk.log_contact(desk, cal, outcome="left_message")
    recall_desk.log_contact(desk, made["fiona"], outcome="no_answer")
    recall_desk.log_contact(desk, world.nora, outcome="called")
    late = _patient(world, "Gwen")
    _treated(late, world.pat, timezone.localdate() - timedelta(days=CADENCE_DAYS + 9), 1)
    due_dates.refresh(late)
    return made


@pytest.mark.parametrize("clinical", [True, False])
def test_the_rows_are_what_the_template_wrote(world, varied, clinical):
    work, today = _page(world)
    assert work.maintenance and work.incomplete and work.follow_ups
    assert any(r.spark for r in work.maintenance) and any(not r.chart for r in work.maintenance)
    assert any(r.contact_label for r in work.maintenance)
    assert any("<" in r.patient.full_name for r in work.maintenance)
    assert any(r.due < today for r in work.maintenance)
    written = {
        "maintenance": recall_rows.maintenance(work.maintenance, clinical=clinical, today=today),
        "incomplete": recall_rows.incomplete(work.incomplete, clinical=clinical),
        "follow_ups": recall_rows.follow_ups(work.follow_ups),
    }
    for section, rows in (
        ("maintenance", work.maintenance),
        ("incomplete", work.incomplete),
        ("follow_ups", work.follow_ups),
    ):
        expected = _reference(section, rows, clinical=clinical, today=today)
        assert written[section].strip("\n") == expected, section


def test_a_series_with_no_session_yet_and_a_row_without_a_forecast_read_as_before(world, varied):
    work, today = _page(world)
    for row in work.incomplete:
        row.due = None
    for row in work.maintenance:
        row.spark, row.chart, row.no_chart_reason = None, False, "too few <sessions>"
    assert recall_rows.incomplete(work.incomplete, clinical=True).strip("\n") == _reference(
        "incomplete", work.incomplete, clinical=True, today=today
    )
    assert "none yet" in recall_rows.incomplete(work.incomplete, clinical=True)
    written = recall_rows.maintenance(work.maintenance, clinical=True, today=today)
    assert written.strip("\n") == _reference(
        "maintenance", work.maintenance, clinical=True, today=today
    )
    assert "too few &lt;sessions&gt;" in written


def test_the_page_shows_the_written_rows(world, varied, client_as):
    page = client_as("pat").get("/recall/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "O&#x27;Brien &amp; &lt;Sons&gt;" in html
    for section in ("maintenance", "incomplete", "follow_ups"):
        shown = page.context[section]
        assert shown and f"<tbody>{page.context[f'{section}_rows']}</tbody>" in html
        for row in shown:
            assert f'<a href="/patients/{row.patient.pk}/">' in html
