"""Benchmark of the booking endpoint under concurrent clients: `python benchmarks/bench_booking.py`.

For SQLite, and PostgreSQL when DATABASE_URL or --postgres names a server (a scratch database is
created on it and dropped afterwards): a fresh database is seeded with one clinic (practitioners
working every day 08:00-20:00, one patient with an accepted 4-session plan per request, and
--background other appointments over three years), a real server is started on a free port in a
process of its own (Django's threaded WSGI server, closing each request's database connection;
`--server dermis-serve` runs `dermis serve` instead), and each client logs in through the login
form with its own session.

The requests are the series booking page's POST (`plans/<id>/book/`: the whole 4-session series,
re-checked against a fresh calendar, booked in one transaction with its reminders and
confirmation). Half book a series of their own; the other half come in groups of --group that all
post the same series at the same moment: one of each group books it, the others are told "slot
taken" (409). First one client sends --baseline requests one after another (the baseline), then
--clients clients send --requests. Latency is from opening the connection to the end of the
response.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

PRACTITIONERS = 10
HOURS = range(10, 19)  # series start on the hour, 10:00-18:00 (background uses 08:00 and 19:00)
SPREAD_DAYS = 28  # a series' first day: one of 28 consecutive days (sessions are 28 days apart)
USER = "bench-desk"
PASSWORD = "bench-password-not-secret-1"
REPRODUCE = (
    "python benchmarks/bench_booking.py --clients 20 --requests 200  # SQLite only\n"
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres "
    "python benchmarks/bench_booking.py --clients 20 --requests 200  # and PostgreSQL"
)


@dataclass(frozen=True)
class Target:
    label: str
    env: dict[str, str]


# --- Seeding (runs in a child process with the target database's settings) ----------------------


def seed(patients: int, background: int) -> dict:
    """Migrate and fill the database; return what the clients need (ids, zone)."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from dermis.core import patient as cp
    from dermis.core.planning import plan
    from dermis.core.screening import screen
    from dermis.web.clinic import core_inputs
    from dermis.web.clinic.models import (
        Appointment,
        Clinic,
        Consultation,
        Location,
        Patient,
        StaffMember,
        TreatmentPlan,
        WorkingHours,
    )

    call_command("migrate", verbosity=0, interactive=False)
    clinic = Clinic.objects.create(name="Bench", slug="bench", town="Leeds", postcode="LS1 1AA")
    where = Location.objects.create(
        clinic=clinic, name="Main", address="1 Street", town="Leeds", postcode="LS1 1AA"
    )
    user = get_user_model().objects.create_user(USER, password=PASSWORD)
    StaffMember.objects.create(user=user, clinic=clinic, role="front_desk", display_name="Desk")
    staff = []
    for i in range(PRACTITIONERS):
        who = get_user_model().objects.create_user(f"bench-p{i}")
        staff.append(
            StaffMember.objects.create(
                user=who, clinic=clinic, role="practitioner", display_name=f"P{i}"
            )
        )
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=s, weekday=d, start=clock(8), end=clock(20), location=where)
        for s in staff
        for d in range(7)
    )
    kb, today = core_inputs.knowledge(), timezone.localdate()
    who = cp.Patient(age=40, sex="f", fitzpatrick=cp.Phototype("III"))
    concern = {"area": "cheeks", "concern": "acne_scars_rolling", "severity": 2}
    assessment = cp.Assessment.model_validate({"skin_thickness": "normal", "concerns": [concern]})
    found = screen(who, cp.Intake(), kb, today)
    content = plan(who, assessment, found, kb).to_dict()
    people = Patient.objects.bulk_create(
        Patient(
            clinic=clinic, given_name=f"Patient{i}", family_name="Bench",
            date_of_birth=date(1985, 1, 1), fitzpatrick="III",
            email=f"p{i}@example.org", phone="07700 900000",
        )
        for i in range(patients + 1)
    )  # fmt: skip
    consultations = Consultation.objects.bulk_create(
        Consultation(
            patient=p, intake={}, assessment=assessment.model_dump(mode="json"),
            screening=found.to_dict(), proposal=content, knowledge_version=kb.version,
            status="accepted",
        )
        for p in people[1:]
    )  # fmt: skip
    plans = TreatmentPlan.objects.bulk_create(
        TreatmentPlan(patient=c.patient, consultation=c, version=1, content=content)
        for c in consultations
    )
    zone = ZoneInfo(settings.TIME_ZONE)
    first = today - timedelta(days=540)
    rows, day = [], 0
    while len(rows) < background:  # 08:00 and 19:00 each day, every practitioner
        d = first + timedelta(days=day)
        for s in staff:
            for hour in (8, 19):
                start = datetime.combine(d, clock(hour), tzinfo=zone)
                rows.append(
                    Appointment(
                        clinic=clinic, location=where, patient=people[0], practitioner=s,
                        start=start, end=start + timedelta(hours=1),
                        status="completed" if d < today else "booked",
                    )
                )  # fmt: skip
        day += 1
    Appointment.objects.bulk_create(rows[:background], batch_size=2000)
    return {
        "plans": [p.pk for p in plans],
        "practitioners": [s.pk for s in staff],
        "location": where.pk,
        "zone": settings.TIME_ZONE,
        "today": today.isoformat(),
    }


# --- Clients ------------------------------------------------------------------------------------


class Client:
    """One logged-in browser: its own session and CSRF cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def login(self) -> None:
        _, page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        body = {"username": USER, "password": PASSWORD}
        body["csrfmiddlewaretoken"] = token.group(1) if token else ""
        status, _ = self.request("POST", "/accounts/login/", body)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login failed (HTTP {status})")


def series_body(seeded: dict, slot: int) -> dict:
    """The POST of one 4-session series: slot number -> practitioner, first day and hour."""
    who = seeded["practitioners"][slot % PRACTITIONERS]
    rest = slot // PRACTITIONERS
    hour = HOURS[rest % len(HOURS)]
    offset = rest // len(HOURS)
    if offset >= SPREAD_DAYS:
        raise ValueError("more distinct series than the practitioners' days hold")
    zone = ZoneInfo(seeded["zone"])
    # past the longest pre-care lead time (14 days), which the safety gate holds a booking to
    day0 = date.fromisoformat(seeded["today"]) + timedelta(days=15 + offset)
    starts = [
        datetime.combine(day0 + timedelta(days=28 * k), clock(hour), tzinfo=zone).isoformat()
        for k in range(4)
    ]
    return {
        "course": "0", "practitioner": str(who), "location": str(seeded["location"]),
        "start": starts, "room": [""] * 4, "device": [""] * 4, "book": "1",
    }  # fmt: skip


def workload(seeded: dict, plans: list[int], first_slot: int, group: int):
    """(plan id, body) per request: even ones a series of their own, odd ones in contended
    groups (consecutive, so they are in flight together). Returns the jobs and the next slot."""
    jobs, slot, groups = [], first_slot, {}
    for i, plan_id in enumerate(plans):
        if i % 2 == 0:
            jobs.append((plan_id, series_body(seeded, slot)))
            slot += 1
        else:
            g = (i // 2) // group
            if g not in groups:
                groups[g] = slot
                slot += 1
            jobs.append((plan_id, series_body(seeded, groups[g])))
    return jobs, slot


def run_jobs(port: int, jobs: list, clients: int) -> list[tuple[float, int]]:
    """Send the jobs from `clients` logged-in clients; (seconds, HTTP status) per request."""
    pool = [Client(port) for _ in range(clients)]
    for c in pool:
        c.login()
    queue = list(reversed(jobs))
    lock = threading.Lock()
    results: list[tuple[float, int]] = []

    def work(client: Client) -> None:
        while True:
            with lock:
                if not queue:
                    return
                plan_id, body = queue.pop()
            t0 = time.perf_counter()
            try:
                status, _ = client.request("POST", f"/plans/{plan_id}/book/", body)
            except OSError:
                status = 0
            elapsed = time.perf_counter() - t0
            with lock:
                results.append((elapsed, status))

    threads = [threading.Thread(target=work, args=(c,)) for c in pool]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# --- One database -------------------------------------------------------------------------------


def serve(port: int) -> None:
    """Django's threaded WSGI server, closing each request thread's database connection.

    `dermis serve` (runserver) leaves each request thread's connection open until garbage
    collection; with persistent PostgreSQL connections (CONN_MAX_AGE) and 20 concurrent clients
    that exhausts the server's connection slots. Use --server dermis-serve to measure it anyway.
    """
    import django

    django.setup()
    from django.core.servers.basehttp import (
        ThreadedWSGIServer,
        WSGIRequestHandler,
        get_internal_wsgi_application,
    )

    httpd = ThreadedWSGIServer(("127.0.0.1", port), WSGIRequestHandler)
    httpd.set_app(get_internal_wsgi_application())
    httpd.serve_forever()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if Client(port).request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not answer /healthz")


def measure(target: Target, args: argparse.Namespace) -> list[dict]:
    total = args.requests + args.baseline
    child = subprocess.run(
        [sys.executable, __file__, "--seed", str(total), str(args.background)],
        env=target.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if child.returncode:
        raise RuntimeError(f"seeding failed:\n{child.stderr[-2000:]}")
    seeded = json.loads(child.stdout.strip().splitlines()[-1])
    port = _free_port()
    log_path = Path(target.env["DERMIS_DATA_DIR"]) / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    command = [sys.executable, __file__, "--serve", str(port)]
    if args.server == "dermis-serve":
        command = [sys.executable, "-m", "dermis", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=target.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, server)
        plans = seeded["plans"]
        jobs, slot = workload(seeded, plans[: args.baseline], 0, args.group)
        t0 = time.perf_counter()
        single = run_jobs(port, jobs, 1)
        rows = [summarise(target.label, "1 client (baseline)", single, time.perf_counter() - t0)]
        rows[-1]["expected"] = expected(len(single), args.group)
        jobs, _ = workload(seeded, plans[args.baseline :], slot, args.group)
        t0 = time.perf_counter()
        loaded = run_jobs(port, jobs, args.clients)
        wall = time.perf_counter() - t0
        rows.append(summarise(target.label, f"{args.clients} clients", loaded, wall))
        rows[-1]["expected"] = expected(len(jobs), args.group)
        return rows
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        if args.show_errors:
            _print_errors(log_path)


def _print_errors(log_path: Path) -> None:
    """The server's tracebacks and 5xx lines, to see why a request failed."""
    lines = log_path.read_text(errors="replace").splitlines()
    keep = [x for x in lines if "Traceback" in x or "Error" in x or '" 5' in x]
    print("\n".join(keep[-40:]), file=sys.stderr)


def expected(n: int, group: int) -> tuple[int, int]:
    """(booked, slot taken) that a correct run gives: every own series, one per group."""
    contended = n // 2
    groups = -(-contended // group)
    return n - contended + groups, contended - groups


def summarise(label: str, phase: str, results: list[tuple[float, int]], wall: float) -> dict:
    seconds = sorted(s for s, _ in results)
    cuts = statistics.quantiles(seconds, n=100, method="inclusive") if len(seconds) > 1 else None
    return {
        "database": label,
        "phase": phase,
        "requests": len(results),
        "booked": sum(1 for _, status in results if status == 302),
        "taken": sum(1 for _, status in results if status == 409),
        "errors": sum(1 for _, status in results if status not in (302, 409)),
        "error_statuses": sorted({status for _, status in results if status not in (302, 409)}),
        "p50": statistics.median(seconds),
        "p95": cuts[94] if cuts else seconds[0],
        "max": seconds[-1],
        "throughput": len(results) / wall,
    }


def table(rows: list[dict]) -> str:
    head = ("database", "clients", "requests", "booked", "slot taken", "errors",
            "p50 ms", "p95 ms", "max ms", "req/s", "p50 vs 1 client")  # fmt: skip
    lines = []
    base: dict[str, float] = {}
    for r in rows:
        if r["phase"].startswith("1 client"):
            base[r["database"]] = r["p50"]
        ratio = r["p50"] / base[r["database"]] if r["database"] in base else 1.0
        taken = str(r["taken"])
        if "expected" in r:
            taken += f" (expect {r['expected'][1]})"
        lines.append((
            r["database"], r["phase"], str(r["requests"]), str(r["booked"]), taken,
            str(r["errors"]), f"{r['p50'] * 1000:.0f}", f"{r['p95'] * 1000:.0f}",
            f"{r['max'] * 1000:.0f}", f"{r['throughput']:.1f}", f"{ratio:.1f}x",
        ))  # fmt: skip
    widths = [max(len(h), *(len(x[i]) for x in lines)) for i, h in enumerate(head)]
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("-|-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)) for x in lines]
    return "\n".join(out)


# --- Targets ------------------------------------------------------------------------------------


def _env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERMIS_")}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="dermis.web.settings",
        DERMIS_ENV="development",
        DERMIS_DATA_DIR=str(data_dir),
        DERMIS_LOG_LEVEL="WARNING",
        # A confirmation and reminders are planned per booking; nothing is sent during the run.
        DERMIS_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


class ScratchPostgres:
    """A database of its own on the given server, dropped afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = f"dermis_bench_{os.getpid()}"

    def __enter__(self) -> str:
        self._execute(f'CREATE DATABASE "{self.name}"')
        parts = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit(parts._replace(path=f"/{self.name}"))

    def __exit__(self, *exc) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_booking.py", description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="under load (default 200)")
    parser.add_argument("--baseline", type=int, default=20, help="from one client (default 20)")
    parser.add_argument("--group", type=int, default=5, help="requests per contended series")
    parser.add_argument("--background", type=int, default=20000, help="other appointments")
    parser.add_argument("--postgres", default=os.environ.get("DATABASE_URL", ""),
                        help="a PostgreSQL server URL (default: DATABASE_URL)")  # fmt: skip
    parser.add_argument("--show-errors", action="store_true", help="print the server's errors")
    parser.add_argument(
        "--server",
        choices=("wsgi", "dermis-serve"),
        default="wsgi",
        help="wsgi: Django's threaded WSGI server in a process of its own (default); "
        "dermis-serve: `dermis serve` (runserver)",
    )
    parser.add_argument("--seed", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed:  # the child process that fills one database
        print(json.dumps(seed(*args.seed)))
        return 0
    if args.serve:  # the child process that serves the app
        serve(args.serve)
        return 0
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="dermis-bench-") as tmp:
        rows += measure(Target("SQLite", _env(Path(tmp) / "sqlite")), args)
        if args.postgres:
            with ScratchPostgres(args.postgres) as url:
                rows += measure(Target("PostgreSQL", _env(Path(tmp) / "pg", url)), args)
    cores = os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"dermis booking-endpoint benchmark: POST plans/<id>/book/ (a 4-session series with "
        f"reminders), {args.background} other appointments; {cores} CPUs, load average {load}; "
        f"python {sys.version.split()[0]}\n"
    )
    print(table(rows))
    print(f"\nReproduce:\n{REPRODUCE}")
    errors = sum(r["errors"] for r in rows)
    wrong = [r for r in rows if "expected" in r and (r["booked"], r["taken"]) != r["expected"]]
    return 1 if errors or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
