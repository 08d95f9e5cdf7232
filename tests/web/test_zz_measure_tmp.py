import time

from tests.web.test_recall_recompute import _revert_queries, _treated_patients
from dermis.web.clinic.models import RecallRecompute
from dermis.web.clinic.scheduling import recompute


def test_measure(world, client_as, django_capture_on_commit_callbacks):
    client = client_as("alice")
    _treated_patients(world, 3, "Few")
    client.post("/outcomes/calibration/revert/")
    t = time.perf_counter()
    small, _ = _revert_queries(world, client, django_capture_on_commit_callbacks)
    ts = time.perf_counter() - t
    _treated_patients(world, 27, "Many")
    t = time.perf_counter()
    large, _ = _revert_queries(world, client, django_capture_on_commit_callbacks)
    tl = time.perf_counter() - t
    row = RecallRecompute.objects.get(clinic=world.northgate)
    t = time.perf_counter()
    recompute.run(world.northgate.pk, row.generation)
    tr = time.perf_counter() - t
    print(f"\nMEASURE queries 3={len(small)} 30={len(large)} request 3={ts:.3f}s 30={tl:.3f}s task30={tr:.3f}s")
