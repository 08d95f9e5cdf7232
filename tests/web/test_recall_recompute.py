"""A parameter-set change recomputes the recall rows in the background: the request answers in a
few queries whatever the clinic's size and queues a task when it commits; the worklist says how
far the recomputation has got; a worker round runs the task, batch by batch, to the same rows a
synchronous recompute writes; a newer change supersedes an older one; a re-run continues."""

from __future__ import annotations

import signal
import subprocess
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dermis.cli.main import main
from dermis.web.clinic.models import RecallEntry, RecallRecompute
from dermis.web.clinic.outcomes import calibration
from dermis.web.clinic.scheduling import due_dates, recompute
from tests import factories
from tests.web.test_recall_store import _clinic_of_many
from tests.web.test_recall_worklist import CADENCE_DAYS, _patient, _treated
from tests.web.test_reminder_worker_crash import DERMIS, _database_url

REVERT = "/outcomes/calibration/revert/"
NOTICE = "Due dates are being recomputed for the new parameter set"


def _rows(clinic) -> list[tuple]:
    """The clinic's stored rows, without what differs between two writes of the same row."""
    fields = [
        f.attname
        for f in RecallEntry._meta.concrete_fields
        if f.attname not in ("id", "computed_at", "version")
    ]
    return sorted(
        tuple(str(v) for v in row)
        for row in RecallEntry.objects.filter(clinic=clinic).values_list(*fields)
    )


def _treated_patients(world, count: int, prefix: str) -> None:
    today = timezone.localdate()
    for i in range(count):
        p = _patient(world, f"{prefix}{i:03d}")
        _treated(p, world.pat, today - timedelta(days=CADENCE_DAYS - i % 40), 1)


@contextmanager
def _signals_kept():
    """The worker command installs SIGTERM/SIGINT handlers: give the test runner its own back."""
    kept = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in kept.items():
            signal.signal(s, handler)


def _worker_round() -> None:
    with _signals_kept():
        call_command("reminder_worker", "--once", "--interval", "0.01")


def _revert_queries(world, client, callbacks) -> tuple[list[str], object]:
    with CaptureQueriesContext(connection) as captured, callbacks(execute=True) as queued:
        response = client.post(REVERT)
    assert response.status_code == 302, response.content
    assert len(queued) == 1  # the task, queued once the change committed
    sql = [q["sql"] for q in captured.captured_queries]
    return [q for q in sql if not q.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))], response


def test_the_change_answers_in_the_same_queries_at_3_and_30_patients(
    world, client_as, django_capture_on_commit_callbacks
):
    client = client_as("alice")
    _treated_patients(world, 3, "Few")
    client.post(REVERT)  # warm: sessions, the knowledge base, the URL map
    small, _ = _revert_queries(world, client, django_capture_on_commit_callbacks)
    _treated_patients(world, 27, "Many")
    large, _ = _revert_queries(world, client, django_capture_on_commit_callbacks)

    assert len(large) == len(small) <= 30, "\n".join(q[:150] for q in large)
    assert not any("recall_entry" in q.lower() for q in large)  # no row rewritten in the request
    row = RecallRecompute.objects.get(clinic=world.northgate)
    assert (row.total, row.done, row.finished_at) == (30, 0, None)
    assert DBTaskResult.objects.filter(status="READY").count() == 2  # one per change


def test_the_task_writes_what_a_synchronous_recompute_writes(
    world, django_capture_on_commit_callbacks
):
    _clinic_of_many(world, extra=7)
    RecallEntry.objects.create(  # a stray row of a patient with nothing due: removed
        clinic=world.northgate, patient=_patient(world, "Zed"), section="maintenance",
        basis="cadence", modality="microneedling", due=timezone.localdate(), version="old",
    )  # fmt: skip
    other_clinic = _rows(world.riverside)
    with django_capture_on_commit_callbacks(execute=False):
        calibration.revert(factories.actor(world.alice))
    row = RecallRecompute.objects.get(clinic=world.northgate)

    assert recompute.run(world.northgate.pk, row.generation, batch=3) == (
        f"recomputed {row.total} patients"
    )
    row.refresh_from_db()
    assert row.done == row.total == due_dates.candidates(world.northgate).count() > 6
    assert row.finished_at is not None and row.last_patient_id > 0
    assert due_dates.stale(world.northgate) == 0
    background = _rows(world.northgate)
    due_dates.recompute([world.northgate])
    assert background == _rows(world.northgate)
    assert _rows(world.riverside) == other_clinic  # another clinic's rows are not touched
    assert recompute.run(world.northgate.pk, row.generation) == "superseded"  # done: no-op


def test_a_newer_change_wins_and_a_rerun_continues_after_the_last_batch(
    world, django_capture_on_commit_callbacks
):
    _treated_patients(world, 9, "Pat")
    admin = factories.actor(world.alice)
    with django_capture_on_commit_callbacks(execute=False):
        calibration.revert(admin)
        first = RecallRecompute.objects.get(clinic=world.northgate).generation
        calibration.revert(admin)
    newest = RecallRecompute.objects.get(clinic=world.northgate).generation
    assert newest == first + 1

    assert recompute.run(world.northgate.pk, first) == "superseded"
    assert RecallRecompute.objects.get(clinic=world.northgate).done == 0

    # A run that stopped after its first committed batch of four (the worker was killed):
    # its rows are rewritten, the progress row says where it ended.
    ids = list(due_dates.candidates(world.northgate).values_list("pk", flat=True))
    RecallRecompute.objects.filter(clinic=world.northgate).update(
        started_at=timezone.now(), done=4, last_patient_id=ids[3], total=len(ids)
    )
    RecallEntry.objects.filter(patient_id__in=ids[4:]).update(version="old")
    RecallEntry.objects.filter(patient_id__in=ids[:4]).update(due=timezone.localdate())
    assert recompute.run(world.northgate.pk, newest, batch=2) == "recomputed 9 patients"

    assert due_dates.stale(world.northgate) == 0
    # The first four were not redone: the run continued after the last committed batch.
    assert set(
        RecallEntry.objects.filter(patient_id__in=ids[:4]).values_list("due", flat=True)
    ) == {timezone.localdate()}


def test_a_task_works_a_slice_then_queues_the_rest_so_reminders_get_their_round(
    world, django_capture_on_commit_callbacks
):
    """With its time spent after one batch, the task queues its own continuation (to run a
    second later: the worker's next round sends reminders first) and the continuation finishes."""
    from django_tasks_db.models import DBTaskResult

    _treated_patients(world, 9, "Pat")
    with django_capture_on_commit_callbacks(execute=False):
        calibration.revert(factories.actor(world.alice))
    row = RecallRecompute.objects.get(clinic=world.northgate)
    queued = DBTaskResult.objects.count()

    said = recompute.run(world.northgate.pk, row.generation, batch=4, budget=0)

    row.refresh_from_db()
    assert said == f"4 of {row.total} patients; continues"
    assert (row.done, row.finished_at) == (4, None)
    (later,) = DBTaskResult.objects.order_by("-enqueued_at")[
        : DBTaskResult.objects.count() - queued
    ]
    assert later.task_path.endswith("recompute_recall") and later.run_after > timezone.now()
    assert recompute.run(world.northgate.pk, row.generation, batch=4) == (
        f"recomputed {row.total} patients"
    )
    assert due_dates.stale(world.northgate) == 0


@pytest.fixture
def task_worker_env(clean_env):
    """The environment of a `dermis worker` process working on this test's database."""
    return {
        **clean_env,
        "DERMIS_ENV": "test",
        "DATABASE_URL": _database_url(),
        "DERMIS_SECRET_KEY": settings.SECRET_KEY,
    }


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_worklist_says_how_far_it_has_got_until_a_worker_round_runs_the_task(
    world, client_as, api_as, task_worker_env
):
    _treated_patients(world, 5, "Due")
    response = client_as("alice").post(REVERT)  # commits: the task is queued
    assert response.status_code == 302
    assert DBTaskResult.objects.get().status == "READY"

    for persona in ("fran", "pat"):
        page = client_as(persona).get("/recall/").content.decode()
        assert f"{NOTICE} (0 of 5 done)" in page
        body = api_as(persona).get("/api/v1/recall").json()
        assert body["recomputing"]["done"] == 0 and body["recomputing"]["total"] == 5
    RecallEntry.objects.filter(clinic=world.northgate).update(version="old")

    worker = subprocess.run(
        [str(DERMIS), "worker", "--once", "--interval", "0.1"],
        env=task_worker_env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert worker.returncode == 0, worker.stderr
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert due_dates.stale(world.northgate) == 0
    row = RecallRecompute.objects.get(clinic=world.northgate)
    assert (row.done, row.total) == (5, 5) and row.finished_at is not None
    assert NOTICE not in client_as("fran").get("/recall/").content.decode()
    assert api_as("fran").get("/api/v1/recall").json()["recomputing"] is None
    assert "Example" not in worker.stderr + worker.stdout  # counts, never names


def test_the_command_line_recompute_finishes_a_pending_recomputation(
    world, django_capture_on_commit_callbacks
):
    _treated_patients(world, 3, "Cli")
    with django_capture_on_commit_callbacks(execute=True):
        calibration.revert(factories.actor(world.alice))
    RecallEntry.objects.filter(clinic=world.northgate).update(version="old")

    assert main(["recall", "recompute", "--quiet"]) == 0

    assert recompute.pending(world.northgate) is None
    assert due_dates.stale(world.northgate) == 0
    generation = RecallRecompute.objects.get(clinic=world.northgate).generation
    assert recompute.run(world.northgate.pk, generation) == "superseded"  # the queued task


@pytest.mark.django_db(transaction=True)  # the worker commits its claim
def test_a_worker_round_reads_the_queue_in_one_limited_query_whatever_its_length(world):
    later = timezone.now() + timedelta(days=1)

    def round_queries(waiting: int) -> list[str]:
        DBTaskResult.objects.all().delete()
        for _ in range(waiting):  # queued for later: not ready, never read
            recompute.recompute_recall.using(run_after=later).enqueue(world.northgate.pk, 0)
        with CaptureQueriesContext(connection) as captured:
            _worker_round()
        sql = [q["sql"] for q in captured.captured_queries]
        return [q for q in sql if "django_tasks_database_dbtaskresult" in q]

    small, large = round_queries(2), round_queries(40)
    assert len(small) == len(large) == 1, large
    (claim,) = large
    assert "LIMIT 1" in claim and "status" in claim


def test_the_queue_query_uses_the_ready_tasks_index(world):
    if connection.vendor != "postgresql":
        pytest.skip("a partial index: PostgreSQL (SQLite keeps it whole)")
    ready = DBTaskResult.objects.ready().filter(backend_name="default", queue_name__in=["default"])
    sql, params = ready.values_list("pk", flat=True)[:1].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table would be scanned
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "tasks_db_new_ordering_idx" in plan, plan
