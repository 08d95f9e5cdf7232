"""Benchmark of the diary's week view: `python benchmarks/bench_diary.py`.

Two clinics in one fresh database: a small one (3 practitioners, a few hundred appointments) as
the baseline, and a large one (20 practitioners, --appointments appointments over years, 200,000
by default). The week view (`/diary/?view=week`, every practitioner, all locations) of a busy week
is rendered --repeat times for each through Django's test client, logged in as the clinic's front
desk; the table prints the median and 95th-percentile time, the number of queries per render and
the appointments on the page, against the small clinic in the same run.

SQLite by default; PostgreSQL too when DATABASE_URL (or --postgres) names a server (a scratch
database is created on it and dropped afterwards). Each database is filled and measured in a
process of its own, with that database's settings.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_booking import ScratchPostgres, _env

REPRODUCE = (
    "python benchmarks/bench_diary.py  # SQLite\n"
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python benchmarks/bench_diary.py"
)
HOURS = range(8, 18)  # one-hour appointments, 08:00-17:00 starts


def _clinic(slug: str, practitioners: int, appointments: int, patients: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dermis.web.clinic.models import (
        Appointment,
        Clinic,
        Location,
        Patient,
        StaffMember,
        WorkingHours,
    )
    from dermis.web.clinic.scheduling.availability import clinic_zone

    users = get_user_model().objects
    clinic = Clinic.objects.create(name=slug, slug=slug, town="Leeds", postcode="LS1 1AA")
    where = Location.objects.create(
        clinic=clinic, name="Main", address="1 Street", town="Leeds", postcode="LS1 1AA"
    )
    desk = users.create_user(f"{slug}-desk")
    StaffMember.objects.create(user=desk, clinic=clinic, role="front_desk", display_name="Desk")
    staff = [
        StaffMember.objects.create(
            user=users.create_user(f"{slug}-p{i}"),
            clinic=clinic,
            role="practitioner",
            display_name=f"Practitioner {i:02d}",
        )
        for i in range(practitioners)
    ]
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=s, weekday=d, start=clock(8), end=clock(18), location=where)
        for s in staff
        for d in range(7)
    )
    people = Patient.objects.bulk_create(
        Patient(
            clinic=clinic, given_name=f"Patient{i}", family_name="Bench",
            date_of_birth=date(1985, 1, 1), fitzpatrick="III",
        )
        for i in range(patients)
    )  # fmt: skip
    today = timezone.localdate()
    per_day = practitioners * len(HOURS)
    days = -(-appointments // per_day)
    first = today - timedelta(days=days - 14)  # two weeks still to come
    zone = clinic_zone()
    rows, n = [], 0
    for k in range(days):
        d = first + timedelta(days=k)
        for s in staff:
            for hour in HOURS:
                if n == appointments:
                    break
                start = datetime.combine(d, clock(hour), tzinfo=zone)
                rows.append(
                    Appointment(
                        clinic=clinic, location=where, patient=people[n % patients],
                        practitioner=s, start=start, end=start + timedelta(hours=1),
                        kind="treatment", status="completed" if d < today else "booked",
                    )
                )  # fmt: skip
                n += 1
        if len(rows) >= 20000:
            Appointment.objects.bulk_create(rows, batch_size=2000)
            rows = []
    Appointment.objects.bulk_create(rows, batch_size=2000)
    return {"desk": desk.pk, "week": today.isoformat()}


def child(appointments: int, repeat: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0, interactive=False)
    began = time.perf_counter()
    # SQLite's overlap triggers check each insert against the whole table: seeding 200,000 rows
    # through them is quadratic. The rows made here never overlap; the triggers go back after.
    triggers = importlib.import_module("dermis.web.clinic.migrations.0004_no_double_booking")
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        with connection.cursor() as cursor:
            for sql in triggers.SQLITE_REVERSE:
                cursor.execute(sql)
    clinics = {
        "small clinic": _clinic("small", 3, 600, 100),
        "large clinic": _clinic("large", 20, appointments, 5000),
    }
    if sqlite:
        with connection.cursor() as cursor:
            for sql in triggers.SQLITE:
                cursor.execute(sql)
    seeded = time.perf_counter() - began
    out = []
    for label, c in clinics.items():
        client = Client(HTTP_HOST="localhost")
        client.force_login(get_user_model().objects.get(pk=c["desk"]))
        url = f"/diary/?view=week&date={c['week']}"
        client.get(url)  # warm: templates compiled, session read
        seconds = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as seen:
                t0 = time.perf_counter()
                response = client.get(url)
                seconds.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.status_code
        shown = response.content.decode().count('class="dg-appt ')
        seconds.sort()
        out.append(
            {
                "clinic": label,
                "appointments": appointments if label.startswith("large") else 600,
                "shown": shown,
                "queries": len(seen),
                "p50": statistics.median(seconds),
                "p95": seconds[max(0, round(0.95 * len(seconds)) - 1)],
            }
        )
    return {"rows": out, "seeded": seeded}


def measure(label: str, env: dict, args) -> list[dict]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(args.appointments), str(args.repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{label}: the measuring process failed")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{label}: seeded in {result['seeded']:.0f} s", file=sys.stderr)
    return [{"database": label, **r} for r in result["rows"]]


def table(rows: list[dict]) -> str:
    head = ("database", "clinic", "appointments", "on the page", "queries", "p50 ms", "p95 ms",
            "p50 vs small")  # fmt: skip
    base = {r["database"]: r["p50"] for r in rows if r["clinic"].startswith("small")}
    lines = [
        (
            r["database"], r["clinic"], f"{r['appointments']:,}", str(r["shown"]),
            str(r["queries"]), f"{r['p50'] * 1000:.0f}", f"{r['p95'] * 1000:.0f}",
            f"{r['p50'] / base[r['database']]:.1f}x",
        )
        for r in rows
    ]  # fmt: skip
    widths = [max(len(h), *(len(x[i]) for x in lines)) for i, h in enumerate(head)]
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("-|-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)) for x in lines]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_diary.py", description=__doc__)
    parser.add_argument("--appointments", type=int, default=200_000, help="in the large clinic")
    parser.add_argument("--repeat", type=int, default=15, help="renders per clinic")
    parser.add_argument("--postgres", default=os.environ.get("DATABASE_URL", ""),
                        help="a PostgreSQL server URL (default: DATABASE_URL)")  # fmt: skip
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="dermis-bench-") as tmp:
        rows += measure("SQLite", _env(Path(tmp) / "sqlite"), args)
        if args.postgres:
            with ScratchPostgres(args.postgres) as url:
                rows += measure("PostgreSQL", _env(Path(tmp) / "pg", url), args)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"dermis diary benchmark: the week view, every practitioner; {os.cpu_count()} CPUs, "
        f"load average {load}; python {sys.version.split()[0]}\n"
    )
    print(table(rows))
    print(f"\nReproduce:\n{REPRODUCE}")
    same = all(
        len({r["queries"] for r in rows if r["database"] == db}) == 1
        for db in {r["database"] for r in rows}
    )
    return 0 if same else 1  # the query count must not grow with the appointments


if __name__ == "__main__":
    sys.exit(main())
