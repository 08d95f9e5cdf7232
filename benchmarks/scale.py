"""Scale benchmark: every page and API list of a clinic group, served by gunicorn on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything make bench-scale
    .venv/bin/python benchmarks/scale.py --scale 0.1      # a tenth of the group, for a quick look

It generates a clinic group in its own database (`--db`, default `dermis_bench`, on the server of
DATABASE_URL): `--clinics` clinics sharing `--group` patients, one of them `--large` patients and
one `--small` (2,500 and 25,000 by default, out of 100,000), each patient with signed sessions,
past and future appointments and audit events, as a clinic that has run for a few years would have.
The generator writes the rows directly with bulk_create, NOT through the services (a benchmark
generator only, for speed); the recall worklist's stored rows are written the same way, by the
rule the services use for a patient without a plan (the knowledge base's cadence from the last
signed session).

Then it starts gunicorn (`gunicorn dermis.web.wsgi`, 2 workers) and, for the small and the large
clinic, requests each page and API list `--requests` times as the clinic's admin, one request at a
time, and prints p50, p95, p95 / floor (the floor is `/healthz`, measured in the same run) and
the queries one request makes (counted in this process with Django's test client), then how much
each page's p95 / floor grew from the small clinic to the large one.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
SESSIONS_PER_PATIENT = 4
APPOINTMENTS_PER_PATIENT = 8
AUDIT_PER_PATIENT = 35
PATIENTS_PER_PRACTITIONER = 1000
CADENCE_DAYS = 180
DAY_SLOTS = 8  # appointments a practitioner has in a day (09:00-17:00)


def _args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--group", type=int, default=100_000, help="patients in the whole group")
    p.add_argument("--clinics", type=int, default=20)
    p.add_argument("--large", type=int, default=25_000, help="patients of the large clinic")
    p.add_argument("--small", type=int, default=2_500, help="patients of the small clinic")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every size (e.g. 0.1)")
    p.add_argument("--requests", type=int, default=40, help="timed requests per page")
    p.add_argument("--db", default="dermis_bench", help="the benchmark's own database")
    p.add_argument("--reuse", action="store_true", help="keep a group generated before")
    p.add_argument("--workers", type=int, default=2)
    return p.parse_args(argv)


def _database_url(name: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("scale.py: PostgreSQL only: set DATABASE_URL=postgres://user@host:port/any")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parts.path.lstrip("/"),)
        ).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')


def _django(url: str, secret: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="dermis.web.settings",
        DERMIS_ENV="development",
        DERMIS_SECRET_KEY=secret,
        DERMIS_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()


# --- Generating the group ------------------------------------------------------------------------


def _sizes(a: argparse.Namespace) -> list[int]:
    group, large, small = (max(1, round(x * a.scale)) for x in (a.group, a.large, a.small))
    rest = max(0, group - large - small)
    others = max(0, a.clinics - 2)
    each = rest // others if others else 0
    return [small, large] + [each] * others


def _aware(day: date, hour: int):
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, clock_time(hour)))


def _clinic(n: int, index: int, today: date, password: str) -> dict:
    """One clinic of `n` patients; returns its admin, a patient and a family name to search."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from dermis.web.clinic import models as m

    rng = random.Random(index)
    clinic = m.Clinic.objects.create(
        name=f"Bench Clinic {index}", slug=f"bench-{index}", town="Town", postcode="AB1 2CD"
    )
    location = m.Location.objects.create(
        clinic=clinic, name="Main", address="1 High Street", town="Town", postcode="AB1 2CD"
    )
    hashed = make_password(password)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"b{index}-{r}", password=hashed) for r in ("admin", "desk")]
        + [
            get_user_model()(username=f"b{index}-p{k}", password=hashed)
            for k in range(max(1, n // PATIENTS_PER_PRACTITIONER))
        ]
    )
    roles = [m.Role.ADMIN, m.Role.FRONT_DESK] + [m.Role.PRACTITIONER] * (len(users) - 2)
    staff = m.StaffMember.objects.bulk_create(
        [
            m.StaffMember(user=u, clinic=clinic, role=r, display_name=u.username)
            for u, r in zip(users, roles, strict=True)
        ]
    )
    practitioners = [s for s in staff if s.role == m.Role.PRACTITIONER]
    m.WorkingHours.objects.bulk_create(
        [
            m.WorkingHours(
                staff=p, location=location, weekday=d, start=clock_time(9), end=clock_time(17)
            )
            for p in practitioners
            for d in range(5)
        ]
    )
    families = ["Nguyen", "Smith", "Jones", "Patel", "Kowalski", "Okafor", "Garcia", "Brown"]
    patients = m.Patient.objects.bulk_create(
        [
            m.Patient(
                clinic=clinic,
                given_name=f"Given{i}",
                family_name=f"{rng.choice(families)}{i % 997}",
                date_of_birth=date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                fitzpatrick="III",
                phone=f"07700 {900000 + i % 100000:06d}",
                email=f"p{index}-{i}@example.org",
            )
            for i in range(n)
        ],
        batch_size=5000,
    )
    # Appointments: practitioner k's slot s is on day s // DAY_SLOTS from the start, hour 9 + s %
    # DAY_SLOTS, so no two overlap; about one in eight lies ahead and is booked.
    slots_each = n * APPOINTMENTS_PER_PATIENT // len(practitioners) + 1
    days = slots_each // DAY_SLOTS + 1
    first = today - timedelta(days=round(days * 7 / 5 * 7 / 8))
    appointments, sessions, recall = [], [], []
    slot = 0
    for p in patients:
        last_done = None
        held = None
        for j in range(APPOINTMENTS_PER_PATIENT):
            who = practitioners[slot % len(practitioners)]
            s = slot // len(practitioners)
            slot += 1
            workday = s // DAY_SLOTS
            day = first + timedelta(days=workday // 5 * 7 + workday % 5)
            start = _aware(day, 9 + s % DAY_SLOTS)
            ahead = day > today
            kind = (
                "treatment"
                if j < SESSIONS_PER_PATIENT
                else rng.choice(["follow_up", "maintenance", "consultation"])
            )
            status = "booked" if ahead else rng.choice(["done"] * 8 + ["no_show", "cancelled"])
            appointments.append(
                m.Appointment(
                    clinic=clinic, location=location, patient=p, practitioner=who, kind=kind,
                    start=start, end=start + timedelta(minutes=60), status=status,
                    modality="microneedling" if kind == "treatment" else "",
                )
            )  # fmt: skip
            if kind in ("treatment", "maintenance") and status == "booked":
                held = max(held or start, start)
            if kind == "treatment" and status == "done":
                sessions.append(
                    m.TreatmentSession(
                        patient=p, practitioner=who, performed_at=start, modality="microneedling",
                        device="automated_pen", cartridge="36-pin", lot_number="L1",
                        status=m.TreatmentSession.Status.FINAL, finalised_at=start,
                    )
                )  # fmt: skip
                last_done = day
        if last_done is not None:
            due = last_done + timedelta(days=CADENCE_DAYS)
            recall.append(
                m.RecallEntry(
                    clinic=clinic, patient=p, section="maintenance", due=due, basis="cadence",
                    modality="microneedling", minutes=60, booked_until=held, version="bench",
                    why=f"maintenance every 180-365 days after the last session, {last_done}",
                    no_chart_reason="there is no active treatment plan yet",
                )
            )  # fmt: skip
    m.Appointment.objects.bulk_create(appointments, batch_size=5000)
    m.TreatmentSession.objects.bulk_create(sessions, batch_size=5000)
    m.RecallEntry.objects.bulk_create(recall, batch_size=5000)
    events = [
        m.AuditEvent(
            clinic=clinic, user=users[0], username=users[0].username, patient_id_ref=p.pk,
            action=rng.choice(["view", "create", "update"]), object_type="Patient",
            object_id=str(p.pk), summary="bench", path="/",
        )
        for p in patients
        for _ in range(AUDIT_PER_PATIENT)
    ]  # fmt: skip
    m.AuditEvent.objects.bulk_create(events, batch_size=10000)
    return {"clinic": clinic, "admin": users[0], "patient": patients[n // 2], "q": "Nguyen1"}


def generate(a: argparse.Namespace, password: str) -> None:
    from django.core.management import call_command

    from dermis.web.clinic.models import Clinic

    call_command("migrate", verbosity=0)
    if a.reuse and Clinic.objects.filter(slug="bench-1").exists():
        return
    if Clinic.objects.filter(slug__startswith="bench-").exists():
        sys.exit(f"scale.py: database {a.db} already has a group: drop it, or pass --reuse")
    today = date.today()
    for index, n in enumerate(_sizes(a)):
        began = time.perf_counter()
        _clinic(n, index, today, password)
        print(f"  clinic {index}: {n} patients in {time.perf_counter() - began:.0f} s", flush=True)


# --- Measuring -----------------------------------------------------------------------------------


def _pages(target: dict) -> list[tuple[str, str, bool]]:
    """(name, path, is the API) of every page and API list measured."""
    from django.urls import reverse

    patient, q = target["patient"].pk, target["q"]
    return [
        ("healthz (floor)", reverse("healthz"), False),
        ("dashboard", reverse("dashboard"), False),
        ("patients", reverse("patient-list"), False),
        ("patients ?q=name", f"{reverse('patient-list')}?q={q}", False),
        ("patient record", reverse("patient-detail", args=[patient]), False),
        ("recall worklist", reverse("recall-worklist"), False),
        ("recall patient", reverse("recall-patient", args=[patient]), False),
        ("availability", reverse("availability"), False),
        ("audit log", reverse("audit-log"), False),
        ("API patients", "/api/v1/patients", True),
        ("API patients ?q=", f"/api/v1/patients?q={q}", True),
        ("API appointments", "/api/v1/appointments", True),
        ("API recall", "/api/v1/recall", True),
        ("API practitioners", "/api/v1/practitioners", True),
    ]


def _credentials(user) -> tuple[str, str]:
    """A logged-in session cookie and an API token for `user`."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.tenancy.tokens import issue_token

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    _, token = issue_token(
        Actor.operator("cli"), username=user.username, days=1, name="scale benchmark"
    )
    return session.session_key, token


def _queries(user, path: str, token: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
    client.get(path, headers=headers)  # warm
    with CaptureQueriesContext(connection) as seen:
        client.get(path, headers=headers)
    return len(seen)


def _time(port: int, path: str, headers: dict, n: int) -> list[float]:
    out = []
    for i in range(n + 2):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        began = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - began) * 1000
        conn.close()
        if response.status >= 400:
            raise SystemExit(f"scale.py: {path} answered {response.status}")
        if i >= 2:  # two to warm the workers
            out.append(elapsed)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(a: argparse.Namespace, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "dermis.web.wsgi", "-b", f"127.0.0.1:{port}"]
    command += ["-w", str(a.workers), "--log-level", "warning", "--timeout", "600"]
    server = subprocess.Popen(command, env=os.environ.copy())
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("scale.py: gunicorn did not start")


def measure(a: argparse.Namespace) -> dict[str, dict[str, tuple]]:
    from django.db.models import Count

    from dermis.web.clinic.models import Clinic, Patient, StaffMember

    results: dict[str, dict[str, tuple]] = {}
    port = _free_port()
    server = _serve(a, port)
    try:
        for slug in ("bench-0", "bench-1"):
            clinic = Clinic.objects.annotate(n=Count("patients")).get(slug=slug)
            admin = StaffMember.objects.get(clinic=clinic, role="admin").user
            patient = Patient.objects.filter(clinic=clinic).order_by("pk")[clinic.n // 2]
            target = {"patient": patient, "q": patient.family_name}
            cookie, token = _credentials(admin)
            label = f"{clinic.n:,} patients"
            results[label] = {}
            for name, path, api in _pages(target):
                auth = {"Authorization": f"Bearer {token}"}
                headers = auth if api else {"Cookie": f"sessionid={cookie}"}
                ms = _time(port, path, headers, a.requests)
                p50, p95 = statistics.median(ms), statistics.quantiles(ms, n=20)[18]
                results[label][name] = (p50, p95, _queries(admin, path, token))
                print(f"  {label:>16}  {name:<20} p95 {p95:8.1f} ms", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def report(results: dict[str, dict[str, tuple]]) -> str:
    lines = []
    for label, pages in results.items():
        floor = pages["healthz (floor)"][1]
        lines.append(f"\n{label}")
        lines.append(f"{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'p95/floor':>11}{'queries':>9}")
        for name, (p50, p95, queries) in pages.items():
            lines.append(f"{name:<22}{p50:9.1f}{p95:9.1f}{p95 / floor:11.1f}{queries:9d}")
    labels = list(results)
    if len(labels) == 2:
        small, large = (results[x] for x in labels)
        lines.append(f"\ngrowth of p95/floor from {labels[0]} to {labels[1]}")
        lines.append(f"{'page':<22}{'small':>8}{'large':>8}{'growth':>9}{'queries':>12}")
        for name in small:
            rs = small[name][1] / small["healthz (floor)"][1]
            rl = large[name][1] / large["healthz (floor)"][1]
            q = f"{small[name][2]}->{large[name][2]}"
            lines.append(f"{name:<22}{rs:8.1f}{rl:8.1f}{(rl / rs - 1) * 100:8.0f}%{q:>12}")
    return "\n".join(lines)


def main(argv=None) -> int:
    a = _args(argv)
    url = _database_url(a.db)
    _create_database(url)
    _django(url, secrets.token_urlsafe(40))
    began = time.perf_counter()
    print(f"generating the group in database {a.db}: clinics of {_sizes(a)} patients", flush=True)
    generate(a, secrets.token_urlsafe(12))
    print(f"generated in {time.perf_counter() - began:.0f} s; measuring", flush=True)
    results = measure(a)
    print(report(results))
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
