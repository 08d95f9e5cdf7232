"""Benchmark of the slot finder: `python benchmarks/bench_slots.py` prints a table.

A seeded clinic (20 practitioners, 6 rooms, 4 devices, 100,000 appointments over 5 years) and 200
requests for a 6-session series with one practitioner. Runs on one core and measures, in the same
run, the indexed finder against the same search whose "is this slot free?" is a linear scan over
every appointment (one pass per candidate slot, timed on a few requests; a NumPy-vectorised scan
too). Both must propose the same series.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402 - the variables above must be set before numpy loads
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Hashable, Sequence  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from datetime import time as clock  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import numpy as np  # noqa: E402
from bench_common import _pin_one_core, format_table  # noqa: E402

from dermis.core.slots import (  # noqa: E402
    Availability,
    Busy,
    ResourceKind,
    SeriesRequest,
    SeriesResult,
    WorkingHours,
    find_series,
)

ZONE = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
FIRST_DAY = date(2022, 1, 3)
YEARS = 5
PRACTITIONERS = [f"p{i:02d}" for i in range(20)]
ROOMS = [f"room{i}" for i in range(6)]
DEVICES = [f"device{i}" for i in range(4)]  # 0-1: pens, 2-3: diamond-tip machines
P, R, D = ResourceKind.PRACTITIONER, ResourceKind.ROOM, ResourceKind.DEVICE


def build_clinic(appointments: int, seed: int = 0) -> tuple[dict, list[Busy]]:
    """Working hours and `appointments` bookings, never double-booking a resource: a practitioner
    each, and a room and a device for treatments (a consultation when none is free); generated
    densely, then thinned at random to the exact count."""
    rng = random.Random(seed)
    hours = {}
    for who in PRACTITIONERS:
        days = sorted(
            rng.sample(range(5), rng.choice((3, 4, 5))) + ([5] if rng.random() < 0.3 else [])
        )
        start = rng.choice((8, 9, 10))
        hours[who] = WorkingHours.every(days, clock(start), clock(start + 8))
    booked: list[tuple[str, str | None, str | None, datetime, datetime]] = []
    for n in range(YEARS * 365 + 1):
        day = FIRST_DAY + timedelta(n)
        in_use: dict[str, list[tuple[datetime, datetime]]] = {}
        for who in PRACTITIONERS:
            spans = hours[who].by_weekday.get(day.weekday(), ())
            for s, e in spans:
                t = datetime.combine(day, s, tzinfo=ZONE)
                end = datetime.combine(day, e, tzinfo=ZONE)
                while True:
                    t += timedelta(minutes=15 * rng.choice((0, 0, 0, 1, 2, 4)))
                    length = timedelta(minutes=rng.choice((30, 45, 60, 60, 90)))
                    if t + length > end:
                        break
                    room = device = None
                    if rng.random() < 0.6:  # a treatment: a room and a device, when free
                        kit = DEVICES[:2] if rng.random() < 0.5 else DEVICES[2:]
                        device = _free(in_use, kit, t, t + length, rng)
                        room = _free(in_use, ROOMS, t, t + length, rng)
                        if device is None or room is None:
                            room = device = None  # none free: a consultation instead
                        else:
                            for rid in (room, device):
                                in_use.setdefault(rid, []).append((t, t + length))
                    booked.append((who, room, device, t, t + length))
                    t += length
    if len(booked) < appointments:
        raise ValueError(f"the generator made only {len(booked):,} appointments")
    rng.shuffle(booked)
    busy = []
    for who, room, device, start, end in booked[:appointments]:
        s, e = start.astimezone(UTC), end.astimezone(UTC)  # as the database returns them
        busy.append(Busy(P, who, s, e))
        if room is not None:
            busy += [Busy(R, room, s, e), Busy(D, device, s, e)]
    return hours, busy


def _free(in_use: dict, ids: Sequence[str], s: datetime, e: datetime, rng: random.Random):
    for rid in rng.sample(list(ids), len(ids)):
        if all(e2 <= s or e <= s2 for s2, e2 in in_use.get(rid, ())):
            return rid
    return None


def requests(hours: dict, count: int, seed: int = 1) -> list[SeriesRequest]:
    rng = random.Random(seed)
    out = []
    span = (YEARS - 1) * 365
    for _ in range(count):
        who = rng.choice(PRACTITIONERS)
        works = sorted(hours[who].by_weekday)
        times = rng.choice(((), ((clock(9), clock(12)),), ((clock(13), clock(17)),)))
        out.append(
            SeriesRequest(
                practitioner=who,
                sessions=6,
                duration_minutes=60,  # microneedling: the knowledge base's longest session
                min_interval_days=28,
                max_interval_days=42,
                target_interval_days=rng.choice((28, 35)),
                earliest_start=FIRST_DAY + timedelta(rng.randrange(span)),
                rooms=tuple(ROOMS),
                devices=tuple(DEVICES[:2]),
                preferred_weekdays=frozenset(rng.sample(works, min(2, len(works)))),
                preferred_times=times,
            )
        )
    return out


class _ScanBusy:
    """The baseline's busy check: one pass over every appointment per candidate slot, answering
    every resource's question from that pass (so a slot costs one scan, not one per resource)."""

    def __init__(self, busy: Sequence[Busy], vectorised: bool) -> None:
        self.rows = [
            ((b.kind, b.resource), int(b.start.timestamp()), int(b.end.timestamp())) for b in busy
        ]
        keys = sorted({k for k, _, _ in self.rows}, key=str)
        self._code = {k: i for i, k in enumerate(keys)}
        self._keys = keys
        self.vectorised = vectorised
        self.codes = np.array([self._code[k] for k, _, _ in self.rows])
        self.starts = np.array([s for _, s, _ in self.rows])
        self.ends = np.array([e for _, _, e in self.rows])
        self._last: tuple[int, int] | None = None
        self._answer: dict[Hashable, int] = {}
        self.scans = 0

    def blocking_end(self, key: Hashable, start: int, end: int) -> int | None:
        if self._last != (start, end):
            self._last, self._answer, self.scans = (start, end), {}, self.scans + 1
            if self.vectorised:
                hit = np.flatnonzero((self.starts < end) & (self.ends > start))
                for c, e in zip(self.codes[hit].tolist(), self.ends[hit].tolist(), strict=True):
                    k = self._keys[c]
                    self._answer[k] = max(self._answer.get(k, 0), e)
            else:
                for k, s, e in self.rows:
                    if s < end and e > start and e > self._answer.get(k, 0):
                        self._answer[k] = e
        return self._answer.get(key)


class _Timing:
    """Wall-clock and CPU seconds of each call: on a shared machine the wall clock also counts
    time spent waiting for the core, so the verdict uses CPU time and both are shown."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __call__(self, fn: Callable[[], SeriesResult]) -> SeriesResult:
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        self.cpu.append(time.process_time() - c0)
        self.wall.append(time.perf_counter() - w0)
        return result

    def summary(self) -> tuple[float, float, str]:
        cpu_med, cpu_p95 = statistics.median(self.cpu), float(np.percentile(self.cpu, 95))
        wall_med, wall_p95 = statistics.median(self.wall), float(np.percentile(self.wall, 95))
        text = f"median {_ms(cpu_med)}, p95 {_ms(cpu_p95)} (wall {_ms(wall_med)}, {_ms(wall_p95)})"
        return cpu_med, cpu_p95, text


def _ms(x: float) -> str:
    return f"{x * 1000:,.2f} ms"


def run(
    appointments: int = 100_000, count: int = 200, baseline: int = 5, seed: int = 0
) -> list[tuple[str, str, str, str]]:
    t0 = time.perf_counter()
    hours, busy = build_clinic(appointments, seed)
    generate = time.perf_counter() - t0
    t0 = time.process_time()
    availability = Availability(ZONE, hours, busy)
    build = time.process_time() - t0
    asks = requests(hours, count, seed + 1)
    find_series(availability, asks[0])  # warm-up

    best_t, full_t = _Timing(), _Timing()
    best = [best_t(lambda r=r: find_series(availability, r, alternatives=0)) for r in asks]
    full = [full_t(lambda r=r: find_series(availability, r)) for r in asks]
    ok = sum(res.ok for res in full)

    def scan(vectorised: bool, n: int) -> tuple[float, float, int]:
        """CPU seconds per request (median), the speed-up on the same requests, scans each."""
        naive = Availability(ZONE, hours)
        naive.busy = _ScanBusy(busy, vectorised)  # type: ignore[assignment]
        timing = _Timing()
        for r, fast in zip(asks[:n], best[:n], strict=True):
            slow = timing(lambda r=r: find_series(naive, r, alternatives=0))
            assert slow.to_dict() == fast.to_dict(), "baseline and index disagree"
        ratio = sum(timing.cpu) / sum(best_t.cpu[:n])
        return statistics.median(timing.cpu), ratio, naive.busy.scans // n

    lin, lin_ratio, lin_scans = scan(False, baseline)
    vec_n = min(count, baseline * 10)
    vec, vec_ratio, _ = scan(True, vec_n)
    _, p95, best_text = best_t.summary()
    _, full_p95, full_text = full_t.summary()

    def verdict(x: float) -> str:
        return "ok" if x <= 0.050 else "OVER"

    return [
        (f"clinic: {appointments:,} appointments ({len(busy):,} resource bookings), 5 years",
         f"generated in {generate:.1f} s", "", ""),
        ("index build, once (CPU)", _ms(build), "", ""),
        (f"propose a 6-session series, best only ({count} requests, CPU)", best_text,
         "p95 <= 50 ms", verdict(p95)),
        ("propose a series + 3 alternatives (the booking page's call, CPU)", full_text,
         "p95 <= 50 ms", verdict(full_p95)),
        ("  requests with a proposal", f"{ok} of {count}", "", ""),
        (f"baseline: linear scan per candidate slot (median of {baseline} requests)",
         f"{_ms(lin)} per request ({lin_scans} scans each)", "", ""),
        ("speed-up: linear scan / index (same requests, best only)", f"{lin_ratio:,.0f}x", "", ""),
        (f"NumPy-vectorised scan per candidate slot (median of {vec_n})",
         f"{_ms(vec)} per request", "", ""),
        ("speed-up: vectorised scan / index (same requests)", f"{vec_ratio:,.0f}x", "", ""),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_slots.py", description=__doc__)
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--baseline-requests", type=int, default=5)
    args = parser.parse_args(argv)
    pinned = _pin_one_core()
    versions = f"numpy {np.__version__}; python {sys.version.split()[0]}"
    print(f"dermis slot-finder benchmark ({pinned}; {versions})\n")
    print(format_table(run(args.appointments, args.requests, args.baseline_requests)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
