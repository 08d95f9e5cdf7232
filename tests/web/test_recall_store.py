"""The recall worklist from stored rows: the same list the old per-view computation gives (kept as
the oracle, `recall.worklist`), kept current by the services, read in a constant number of
queries whatever the clinic's size, and recomputed in full by `dermis recall recompute`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dermis.cli.main import main
from dermis.web.clinic.consultations import services as consultations
from dermis.web.clinic.models import Appointment, AuditEvent, Patient, RecallEntry
from dermis.web.clinic.outcomes import calibration
from dermis.web.clinic.scheduling import due_dates, recall, recall_list, recompute
from dermis.web.clinic.scheduling import services as scheduling
from dermis.web.clinic.scheduling.booking import Booking, book
from tests import factories
from tests.web.test_recall_worklist import (
    CADENCE_DAYS,
    _patient,
    _treated,
    accepted_plan,
    forecast_patient,
)
from tests.web.test_series_booking import weekday_hours

URL = "/recall/"


def _clinic_of_many(world, extra: int = 0) -> dict:
    """A varied clinic: forecast, cadence and plan-less patients due, one booked ahead, one whose
    booking has passed unmarked, a running series, missed follow-ups (two for one patient), a
    patient of the other clinic, and `extra` more cadence patients due on spread days."""
    weekday_hours(world.pat)
    today, now = timezone.localdate(), timezone.now()
    fiona, fiona_due = forecast_patient(world, due_in=20)
    for i, name in enumerate(["Bea", "Cal", "Dee", "Eve"]):
        p = _patient(world, name)
        _treated(p, world.pat, today - timedelta(days=CADENCE_DAYS - 3 * i - 1), 1)
    dee, eve = Patient.objects.get(given_name="Dee"), Patient.objects.get(given_name="Eve")
    ahead = now + timedelta(days=4)
    book(dee, Booking(ahead, ahead + timedelta(hours=1), world.alice))
    gone = now - timedelta(days=2)
    book(eve, Booking(gone, gone + timedelta(hours=1), world.alice), kind="maintenance")
    plan = accepted_plan(world.nora, world.pat)
    _treated(world.nora, world.pat, today - timedelta(days=400), 2, plan)
    for days in (30, 20):
        missed = now - timedelta(days=days)
        book(
            world.nora,
            Booking(missed, missed + timedelta(minutes=30), world.pat),
            kind=Appointment.Kind.FOLLOW_UP,
        )
    _treated(world.rhys, world.oscar, today - timedelta(days=CADENCE_DAYS), 1)
    for i in range(extra):
        p = _patient(world, f"Extra{i:03d}")
        _treated(p, world.pat, today - timedelta(days=CADENCE_DAYS - (i % 50)), 1)
    for p in Patient.objects.all():
        due_dates.refresh(p)  # the history above was written directly, not by the services
    return {"fiona": fiona, "fiona_due": fiona_due, "dee": dee, "eve": eve}


def _computed(world, today, now):
    work = recall.worklist(world.northgate, today, now)
    return (
        [(m.patient.pk, m.due, m.basis, m.why, m.last_session.pk) for m in work.maintenance],
        [
            (r.patient.pk, r.plan.pk, r.course, r.modality, r.planned, r.counted, r.last)
            for r in work.incomplete
        ],
        [(f.patient.pk, f.appointment.pk) for f in work.follow_ups],
    )


def _stored(world, today, now):
    page = recall_list.worklist(world.northgate, today, now)
    return (
        [(m.patient.pk, m.due, m.basis, m.why, m.last_session_id) for m in page.maintenance],
        [
            (r.patient.pk, r.plan_id, r.course, r.modality, r.planned, r.counted, r.due)
            for r in page.incomplete
        ],
        [(f.patient.pk, f.appointment.pk) for f in page.follow_ups],
    )


def test_the_stored_list_has_the_computed_lists_order_and_content(world):
    made = _clinic_of_many(world)
    today, now = timezone.localdate(), timezone.now()
    computed = _computed(world, today, now)
    names = {p.pk: p.given_name for p in Patient.objects.all()}
    assert [names[m[0]] for m in computed[0]] == ["Bea", "Cal", "Eve", "Fiona"]
    assert len(computed[1]) == 1 and len(computed[2]) == 1  # Nora's series and follow-up
    assert _stored(world, today, now) == computed
    # A week on (nothing written meanwhile): Dee's booking has passed, unmarked; she is due.
    later_now, later = now + timedelta(days=7), today + timedelta(days=7)
    again = _computed(world, later, later_now)
    assert made["dee"].pk in [m[0] for m in again[0]]
    assert _stored(world, later, later_now) == again


def test_the_services_keep_the_rows_current(world):
    factories.working_hours(world.pat)
    nora = world.nora
    today, now = timezone.localdate(), timezone.now()

    def series():
        return [(r.counted, r.planned) for r in nora.recall_entries.filter(section="series")]

    plan = factories.accepted_plan(world.pat, nora)  # a plan accepted
    assert series() == [(0, 4)]
    start = factories.next_weekday_at(10, days_ahead=2)
    made = factories.appointment(
        world.pat, nora, start, kind="treatment", plan=plan, precare_done=True
    )
    assert series() == [(1, 4)]  # an appointment booked
    scheduling.cancel_appointment(factories.actor(world.fran), made, "asked")
    assert series() == [(0, 4)]  # and cancelled
    factories.finalised(world.pat, factories.session(world.pat, nora, plan=plan))
    assert series() == [(1, 4)]  # a session signed
    assert not nora.recall_entries.filter(section="maintenance").exists()  # still in the series
    consultations.complete_plan(factories.actor(world.pat), plan)  # a plan completed
    assert series() == []
    row = nora.recall_entries.get(section="maintenance")
    assert (row.basis, row.modality) == ("cadence", "microneedling")
    assert row.due == today + timedelta(days=CADENCE_DAYS)
    assert _stored(world, row.due, now) == _computed(world, row.due, now)


def test_a_grade_and_the_parameter_set_rewrite_the_forecast_rows(
    world, django_capture_on_commit_callbacks
):
    fiona, _ = forecast_patient(world, due_in=20)
    before = fiona.recall_entries.get(section="maintenance")
    factories.grade(world.pat, fiona, 0, concern="fine_lines")  # a grade recorded
    after = fiona.recall_entries.get(section="maintenance")
    assert after.pk != before.pk  # rewritten
    assert (after.due, after.basis) == (
        recall.maintenance_unbooked(fiona, timezone.localdate()).due,
        recall.maintenance_unbooked(fiona, timezone.localdate()).basis,
    )
    with django_capture_on_commit_callbacks(execute=True):
        calibration.revert(factories.actor(world.alice))  # the clinic's parameters changed
    assert fiona.recall_entries.get(section="maintenance").pk == after.pk  # queued, not yet
    (queued,) = DBTaskResult.objects.filter(status="READY")
    assert recompute.run(*queued.args_kwargs["args"]).startswith("recomputed")
    rewritten = fiona.recall_entries.get(section="maintenance")
    assert rewritten.pk != after.pk and rewritten.version == due_dates.version(fiona.clinic_id)
    assert due_dates.stale(world.northgate) == 0


@pytest.mark.parametrize("persona", ["fran", "pat"])
def test_the_worklist_makes_at_most_ten_queries_whatever_the_clinics_size(
    persona, world, client_as
):
    client = client_as(persona)
    _clinic_of_many(world)
    client.get(URL)  # warm: sessions, the knowledge base
    with CaptureQueriesContext(connection) as small:
        response = client.get(URL)
    assert len(response.context["maintenance"]) == 4
    for i in range(40):  # ten times the clinic's due list
        p = _patient(world, f"More{i:03d}")
        _treated(p, world.pat, timezone.localdate() - timedelta(days=CADENCE_DAYS - i % 30), 1)
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL)
    assert len(response.context["maintenance"]) == recall.PAGE_ROWS == 25  # a page of 44
    with CaptureQueriesContext(connection) as second:
        response = client.get(URL, {"page": 2})
    assert len(response.context["maintenance"]) == 44 - 25
    # Savepoints are the test's transaction, not queries: a request in production has none.
    # The recomputation notice is read with the signed-in user and their clinic (no query).
    small_q, large_q, second_q = _queries(small), _queries(large), _queries(second)
    assert len(large_q) == len(small_q) == len(second_q) <= 10, "\n".join(q[:150] for q in large_q)
    assert not any(q.startswith('SELECT "clinic_recallrecompute"') for q in large_q)


def test_the_worklist_pages_through_every_due_patient_in_order(world, client_as):
    _clinic_of_many(world, extra=28)  # 32 due for maintenance
    client = client_as("fran")
    computed = [m[0] for m in _computed(world, timezone.localdate(), timezone.now())[0]]
    assert len(computed) == 32
    first = client.get(URL)
    assert [r.patient.pk for r in first.context["maintenance"]] == computed[:25]
    html = first.content.decode()
    assert 'href="?page=2" rel="next"' in html and 'rel="prev"' not in html
    second = client.get(URL, {"page": "2"})
    assert [r.patient.pk for r in second.context["maintenance"]] == computed[25:]
    html = second.content.decode()
    assert 'href="?page=1" rel="prev"' in html and 'rel="next"' not in html
    assert "each section from its row 26" in html
    # Only the shown patients are audited as viewed: 25, then 7 (and Nora's other sections).
    shown = {r.patient.pk for r in second.context["maintenance"]}
    viewed = AuditEvent.objects.filter(summary__startswith="recall worklist", action="view")
    assert shown <= set(viewed.latest("seq").patient_ids())
    for junk in ("0", "-1", "x", "99999999"):
        assert client.get(URL, {"page": junk}).context["page"] == 1
    beyond = client.get(URL, {"page": "9"})
    assert beyond.status_code == 200 and beyond.context["maintenance"] == []
    assert 'rel="prev"' in beyond.content.decode()


def _queries(captured) -> list[str]:
    sql = [q["sql"] for q in captured.captured_queries]
    return [q for q in sql if not q.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_recompute_rewrites_every_row_with_a_progress_bar(world, capsys):
    _clinic_of_many(world)
    today, now = timezone.localdate(), timezone.now()
    expected = _stored(world, today, now)
    RecallEntry.objects.all().delete()
    RecallEntry.objects.create(  # a stray row of a patient with nothing due
        clinic=world.northgate, patient=_patient(world, "Zed"), section="maintenance",
        basis="cadence", modality="microneedling", due=today, version="old",
    )  # fmt: skip
    assert main(["recall", "recompute"]) == 0
    out = capsys.readouterr()
    assert "recall:" in out.err and "100%" in out.err  # the bar, on stderr
    assert "recomputed" in out.out and "Example" not in out.out + out.err  # counts, no names
    assert _stored(world, today, now) == expected
    assert due_dates.stale(world.northgate) == 0
    assert main(["recall", "recompute", "--clinic", "999999"]) == 2


def test_a_bulk_writer_can_defer_the_rewrite_to_the_end(world):
    from dermis.web.clinic import recall_sync

    with recall_sync.deferred():
        plan = factories.accepted_plan(world.pat, world.nora)
        assert not RecallEntry.objects.filter(patient=world.nora).exists()  # not yet
    (row,) = RecallEntry.objects.filter(patient=world.nora)
    assert (row.section, row.plan, row.counted) == ("series", plan, 0)
    with recall_sync.deferred(refresh=False):
        consultations.complete_plan(factories.actor(world.pat), plan)
    assert RecallEntry.objects.filter(patient=world.nora).get() == row  # left to the caller


@pytest.mark.parametrize("spare", [0, recall_list.SPARE])
def test_overdue_follow_ups_page_by_patient_when_one_has_several(world, monkeypatch, spare):
    """A patient's later missed follow-ups are skipped for their earliest, even where they fill
    the first batch read (with no spare rows, they do): every page matches the computed list's."""
    monkeypatch.setattr(recall_list, "SPARE", spare)
    weekday_hours(world.pat)
    now = timezone.now()
    for patient, days_ago in ((world.nora, (40, 30, 20, 10)), (world.rhys, (35,))):
        for days in days_ago:
            missed = now - timedelta(days=days)
            made = book(
                patient,
                Booking(missed, missed + timedelta(minutes=30), world.pat),
                kind=Appointment.Kind.FOLLOW_UP,
            )
            Appointment.objects.filter(pk=made.pk).update(status=Appointment.Status.NO_SHOW)
    ula = _patient(world, "Ula")
    missed = now - timedelta(days=5)
    book(ula, Booking(missed, missed + timedelta(minutes=30), world.pat), kind="follow_up")
    today = timezone.localdate()
    computed = [
        (f.patient.pk, f.appointment.pk) for f in recall.overdue_follow_ups(world.northgate, now)
    ]
    assert [pk for pk, _ in computed] == [world.nora.pk, ula.pk]  # Rhys is Riverside's
    for limit in (1, 2, 5):
        for offset in (0, 1, 2):
            page = recall_list.follow_ups(world.northgate, today, now, limit, offset)
            assert [(f.patient.pk, f.appointment.pk) for f in page] == computed[
                offset : offset + limit
            ], (limit, offset)


def test_the_api_pages_the_worklist_as_the_page_does(world, api_as, client_as, monkeypatch):
    _clinic_of_many(world)
    computed = [m[0] for m in _computed(world, timezone.localdate(), timezone.now())[0]]
    assert len(computed) == 4
    monkeypatch.setattr(recall, "PAGE_ROWS", 3)  # rows per section a page, web and API
    api, web = api_as("fran"), client_as("fran")
    for page, rows, more in ((1, computed[:3], True), (2, computed[3:], False)):
        body = api.get(f"/api/v1/recall?page={page}").json()
        assert [m["patient_id"] for m in body["maintenance"]] == rows != []
        assert (body["page"], body["more"]) == (page, more)
        shown = web.get(URL, {"page": page}).context
        assert [r.patient.pk for r in shown["maintenance"]] == rows
        for section in ("incomplete", "follow_ups"):
            assert [r["patient_id"] for r in body[section]] == [
                r.patient.pk for r in shown[section]
            ]
        assert shown["more"] == more
    refused = api.get("/api/v1/recall?page=0")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "query.page"


def test_the_follow_up_index_covers_exactly_the_statuses_the_worklist_reads(world):
    index = next(i for i in Appointment._meta.indexes if i.name == "appointment_follow_up_open")
    condition = dict(index.condition.children)
    assert condition["kind"] == Appointment.Kind.FOLLOW_UP
    assert set(condition["status__in"]) == set(recall_list.MISSED)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_overdue_follow_ups_are_read_from_their_partial_index(world):
    """Without it, a small clinic's follow-ups were found by reading all of its appointments (or
    every patient of the group, hashed): 36 ms at 2,500 patients among 100,000; 0.7 ms with it."""
    now = timezone.now()
    with CaptureQueriesContext(connection) as seen:
        recall_list.follow_ups(world.northgate, timezone.localdate(now), now, 26)
    (sql,) = [q["sql"] for q in seen.captured_queries if "clinic_appointment" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "appointment_follow_up_open" in plan, plan
