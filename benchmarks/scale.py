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
each page's p95 / floor grew from the small clinic to the large one, and its p95 and p50.

A second reference is measured beside the floor: the signed-in floor, the "password changed"
page (signed in, second factor passed: it reads the session, the user and the device, and draws
the page's frame around one sentence, nothing of the clinic). Each page's p95 is also given as a
multiple of it, so what a page costs beyond being signed in shows apart from what every
signed-in page costs.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import scale_data  # noqa: E402  (beside this file)

FLOOR = "healthz (floor)"
SIGNED_IN = "signed-in floor"
REFERENCES = (FLOOR, SIGNED_IN)  # measured with five times the requests: a millisecond or two


def _args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--group", type=int, default=100_000, help="patients in the whole group")
    p.add_argument("--clinics", type=int, default=20)
    p.add_argument("--large", type=int, default=25_000, help="patients of the large clinic")
    p.add_argument("--small", type=int, default=2_500, help="patients of the small clinic")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every size (e.g. 0.1)")
    p.add_argument(
        "--requests",
        type=int,
        default=400,
        help="timed requests per page (a p95 is then the 20th slowest, which one hiccup of the "
        "machine moves less)",
    )
    p.add_argument("--db", default="dermis_bench", help="the benchmark's own database")
    p.add_argument("--reuse", action="store_true", help="keep a group generated before")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--only",
        default="",
        help="measure only the pages whose names contain one of these (comma-separated), "
        "beside the two floors",
    )
    p.add_argument(
        "--against",
        type=Path,
        metavar="CHECKOUT",
        help="another checkout of Dermis (set up, with its .venv) whose server runs beside this "
        "one on the same group: each page's requests alternate between the two, and the report "
        "ends with both and the ratio of their p50s",
    )
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
        # The group's seals and audit chain are made with this key, so the server can check them.
        DERMIS_RECORD_KEY=f"scale-benchmark-record-key-of-{url.rsplit('/', 1)[-1]}".ljust(40, "-"),
        DERMIS_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()


# --- Measuring -----------------------------------------------------------------------------------


def _pages(t: dict) -> list[tuple[str, str, str]]:
    """(name, path, how it signs in: "web", "api" or "none") of every page and API list measured."""
    from django.urls import reverse

    patient, bulk, plan, q, phone = t["patient"], t["bulk"], t["plan"], t["q"], t["phone"]
    week = date.today().isoformat()
    pages = [
        (FLOOR, reverse("healthz"), "none"),
        (SIGNED_IN, reverse("password-change-done"), "web"),
        ("dashboard", reverse("dashboard"), "web"),
        ("diary day", reverse("diary"), "web"),
        ("diary week", f"{reverse('diary')}?view=week&date={week}", "web"),
        ("patients", reverse("patient-list"), "web"),
        ("patients ?q=name", f"{reverse('patient-list')}?q={q}", "web"),
        ("patients ?q=phone", f"{reverse('patient-list')}?q={phone}", "web"),
        ("patient record", reverse("patient-detail", args=[patient]), "web"),
        ("record (bulk patient)", reverse("patient-detail", args=[bulk]), "web"),
        ("forecast chart", reverse("patient-forecast", args=[patient]), "web"),
        # With the practitioner who treats the patient chosen: it proposes series (the admin,
        # asked first by default, has no working hours, and the page only said so).
        ("series proposal", reverse("series-propose", args=[plan]) + t["choose"], "web"),
        ("recall worklist", reverse("recall-worklist"), "web"),
        ("recall patient", reverse("recall-patient", args=[bulk]), "web"),
        ("availability", reverse("availability"), "web"),
        ("audit log", reverse("audit-log"), "web"),
        ("audit log ?user=", f"{reverse('audit-log')}?user={t['username']}", "web"),
        ("reminders", reverse("reminder-delivery"), "web"),
        ("waitlist", reverse("waitlist"), "web"),
        ("calendar feeds", reverse("calendar-feed-list"), "web"),
        ("calendar feed .ics", t["feed"], "none"),
        ("directory", reverse("directory"), "none"),
        ("API patients", "/api/v1/patients", "api"),
        ("API patients ?q=", f"/api/v1/patients?q={q}", "api"),
        ("API appointments", "/api/v1/appointments", "api"),
        ("API appointments week", f"/api/v1/appointments?date_from={week}", "api"),
        ("API recall", "/api/v1/recall", "api"),
        ("API practitioners", "/api/v1/practitioners", "api"),
        ("API reminders", "/api/v1/reminders", "api"),
        ("API waitlist", "/api/v1/waitlist", "api"),
        ("API sessions", f"/api/v1/patients/{bulk}/sessions", "api"),
        ("API FHIR export", f"/api/v1/patients/{patient}/fhir", "api"),
        ("FHIR $everything", f"/fhir/R4/Patient/{patient}/$everything", "api"),
        ("FHIR Patient?name=", f"/fhir/R4/Patient?name={q}", "api"),
    ]
    return pages


def _credentials(user) -> tuple[str, str]:
    """A logged-in session cookie that has passed the second factor, and an API token."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.tenancy.tokens import issue_token

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "dermis.web.clinic.accounts.backends.StaffModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = _device(user).persistent_id
    session.create()
    _, token = issue_token(
        Actor.operator("cli"), username=user.username, days=1, name="scale benchmark"
    )
    return session.session_key, token


def _device(user):
    """The admin's confirmed TOTP device (admins must pass the second factor)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="scale benchmark", defaults={"confirmed": True}
    )
    return device


# A statement's start within a string of several ("BEGIN; SELECT …", the reads a page sends
# together): at the start of the string or after "; ".
STATEMENT = re.compile(r"(?:^|; )(?:SELECT|WITH|INSERT|UPDATE|DELETE)\b")


def _queries(cookie: str, path: str, token: str, how: str) -> str:
    """Statements and round trips of one request ("21/8"): the statements that read or write (BEGIN,
    COMMIT and savepoints left out), and the round trips they took (several statements sent as
    one string count once; BEGIN or COMMIT sent alone not at all)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="localhost")
    if how == "web":  # as the timed requests ask: the API with its token alone
        client.cookies["sessionid"] = cookie
    headers = {"Authorization": f"Bearer {token}"} if how == "api" else {}
    client.get(path, headers=headers)  # warm
    with CaptureQueriesContext(connection) as seen:
        client.get(path, headers=headers)
    counts = [len(STATEMENT.findall(q["sql"])) for q in seen.captured_queries]
    return f"{sum(counts)}/{sum(1 for n in counts if n)}"


def _once(port: int, path: str, headers: dict) -> float:
    """One request on a new connection, in milliseconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    began = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - began) * 1000
    conn.close()
    if response.status != 200:
        raise SystemExit(f"scale.py: {path} answered {response.status}")
    return elapsed


def _time_together(asks: list[tuple[int, str, dict]], n: int) -> list[tuple[list, float]]:
    """n timed requests of each (port, path, headers), taken in turn (the first, then the second,
    …) so that a machine slowing down or speeding up meanwhile weighs on each alike; two rounds to
    warm the workers first. For each: its times and its first (cold) request's."""
    out: list[list[float]] = [[] for _ in asks]
    for _i in range(n + 2):
        for times, (port, path, headers) in zip(out, asks, strict=True):
            times.append(_once(port, path, headers))
    return [(times[2:], times[0]) for times in out]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(a: argparse.Namespace, port: int, checkout: Path | None = None) -> subprocess.Popen:
    """The production server (`dermis serve`: gunicorn, WhiteNoise, persistent connections), of
    this checkout or of `checkout` (run by its own .venv)."""
    env = os.environ.copy()
    env.update(
        DERMIS_ENV="production",
        DERMIS_PUBLIC_URL=f"http://127.0.0.1:{port}",
        DERMIS_WORKERS=str(a.workers),
        DERMIS_TIMEOUT="600",
        DERMIS_LOG_LEVEL="warning",
        DERMIS_DATA_DIR=str(Path(os.environ.get("TMPDIR", "/tmp")) / "dermis-scale"),
    )
    python = str(checkout / ".venv" / "bin" / "python") if checkout else sys.executable
    if checkout:
        env["DERMIS_DATA_DIR"] += "-against"
    command = [python, "-m", "dermis", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-migrate"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=checkout)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("scale.py: the server did not start")


def _target(clinic) -> dict:
    from django.db.models import Count

    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.models import CalendarFeed, Patient, Role, StaffMember, TreatmentPlan
    from dermis.web.clinic.scheduling import setup

    n = Patient.objects.filter(clinic=clinic).aggregate(n=Count("pk"))["n"]
    patient = Patient.objects.get(clinic=clinic, family_name="Target")
    bulk = Patient.objects.filter(clinic=clinic).order_by("pk")[n // 2]
    admin = StaffMember.objects.get(clinic=clinic, role=Role.ADMIN)
    practitioner = patient.sessions.first().practitioner
    # Each run makes a feed (its address is shown once) and the feeds page lists them all: the
    # feeds of runs before are removed first (directly, as the generator writes), so that page
    # shows the same at both clinics and on every run.
    CalendarFeed.objects.filter(staff__clinic=clinic).delete()
    _, feed = setup.create_feed(Actor.of_staff(practitioner), staff=practitioner)
    return {
        "n": n,
        "admin": admin.user,
        "patient": patient.pk,
        "bulk": bulk.pk,
        "plan": TreatmentPlan.objects.filter(patient=patient).latest("pk").pk,
        "choose": f"?course=0&location={clinic.locations.order_by('pk').first().pk}"
        f"&practitioner={practitioner.pk}",
        "q": bulk.family_name,
        "phone": bulk.phone.replace(" ", ""),
        "username": admin.user.username,
        "feed": f"/calendar/{feed}.ics",
    }


def measure(
    a: argparse.Namespace,
) -> tuple[dict[str, dict[str, tuple]], dict[str, float], dict[str, dict[str, tuple]]]:
    """Every page of both clinics, the two clinics' requests of a page taken in turn (and with
    `--against`, each request of this server followed by the same request of the other's)."""
    from django.core.cache import cache

    from dermis.web.clinic.models import Clinic

    results: dict[str, dict[str, tuple]] = {}
    against: dict[str, dict[str, tuple]] = {}
    cold: dict[str, float] = {}
    ports, servers = [], []
    try:
        for checkout in (None, a.against) if a.against else (None,):
            ports.append(_free_port())
            servers.append(_serve(a, ports[-1], checkout))
        clinics = []
        for slug in ("bench-0", "bench-1"):
            t = _target(Clinic.objects.get(slug=slug))
            cookie, token = _credentials(t["admin"])
            label = f"{t['n']:,} patients"
            results[label], against[label] = {}, {}
            clinics.append((label, t, cookie, token))
        pages = [_pages(t) for _, t, _, _ in clinics]
        only = [part.strip() for part in a.only.split(",") if part.strip()]
        for row in zip(*pages, strict=True):
            name = row[0][0]
            if only and name not in REFERENCES and not any(part in name for part in only):
                continue
            asks = []
            for (_, path, how), (_, _, cookie, token) in zip(row, clinics, strict=True):
                headers = {
                    "api": {"Authorization": f"Bearer {token}"},
                    "web": {"Cookie": f"sessionid={cookie}"},
                    "none": {},
                }[how]
                asks += [(port, path, headers) for port in ports]
            # The floors are a few milliseconds: more requests steady their p95.
            times = a.requests * 5 if name in REFERENCES else a.requests
            if name == "forecast chart":
                # Its first request draws the chart: none is in the shared cache (the group's).
                cache.clear()
            timed = iter(_time_together(asks, times))
            for (label, _, cookie, token), (_, path, how) in zip(clinics, row, strict=True):
                for server_index in range(len(ports)):
                    ms, first = next(timed)
                    p50, p95 = statistics.median(ms), statistics.quantiles(ms, n=20)[18]
                    if server_index:
                        against[label][name] = (p50, p95)
                        continue
                    results[label][name] = (p50, p95, _queries(cookie, path, token, how))
                    if name == "forecast chart" and not cold:
                        # The first only: both clinics' target patients have the same history,
                        # so the second clinic's chart is the first's, from the shared cache.
                        cold[label] = first
                    print(f"  {label:>16}  {name:<22} p95 {p95:8.1f} ms", flush=True)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    return results, cold, against


def compare(results: dict[str, dict[str, tuple]], against: dict[str, dict[str, tuple]]) -> str:
    """This checkout's p50 / p95 beside the other's (`--against`), and this p50 ÷ that p50."""
    lines = []
    for label, pages in results.items():
        lines.append(f"\n{label}: this checkout against the other, requests taken in turn")
        head = f"{'page':<22}{'this p50/p95 ms':>18}{'other p50/p95 ms':>19}"
        lines.append(head + f"{'p50 ratio':>11}")
        for name, (p50, p95, _) in pages.items():
            o50, o95 = against[label][name]
            this, other = f"{p50:.1f} / {p95:.1f}", f"{o50:.1f} / {o95:.1f}"
            lines.append(f"{name:<22}{this:>18}{other:>19}{p50 / o50:11.2f}")
    return "\n".join(lines)


def report(results: dict[str, dict[str, tuple]]) -> str:
    lines = []
    for label, pages in results.items():
        floor, signed_in = pages[FLOOR][1], pages[SIGNED_IN][1]
        lines.append(f"\n{label}")
        head = f"{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'p95/floor':>11}{'p95/signed-in':>15}"
        lines.append(head + f"{'queries/trips':>15}")
        for name, (p50, p95, queries) in pages.items():
            lines.append(
                f"{name:<22}{p50:9.1f}{p95:9.1f}{p95 / floor:11.1f}{p95 / signed_in:15.1f}"
                f"{queries:>15}"
            )
    labels = list(results)
    if len(labels) == 2:
        small, large = (results[x] for x in labels)
        lines.append(
            f"\ngrowth from {labels[0]} to {labels[1]}: of p95 / floor, of p95 itself, and of p50"
            " (steadier than p95 on a shared machine: a p95 that grows with a steady p50 is the"
            " machine's tail, not the page)"
        )
        head = f"{'page':<22}{'small':>8}{'large':>8}{'growth':>9}{'p95 ms':>16}{'growth':>9}"
        lines.append(head + f"{'p50 ms':>16}{'growth':>9}{'queries/trips':>16}")
        for name in small:
            rs = small[name][1] / small[FLOOR][1]
            rl = large[name][1] / large[FLOOR][1]
            ms = f"{small[name][1]:.0f}->{large[name][1]:.0f}"
            grew = (large[name][1] / small[name][1] - 1) * 100
            mid = f"{small[name][0]:.0f}->{large[name][0]:.0f}"
            mid_grew = (large[name][0] / small[name][0] - 1) * 100
            q = f"{small[name][2]}->{large[name][2]}"
            ratio = (rl / rs - 1) * 100
            lines.append(
                f"{name:<22}{rs:8.1f}{rl:8.1f}{ratio:8.0f}%{ms:>16}{grew:8.0f}%"
                f"{mid:>16}{mid_grew:8.0f}%{q:>16}"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    a = _args(argv)
    url = _database_url(a.db)
    _create_database(url)
    _django(url, secrets.token_urlsafe(40))
    began = time.perf_counter()
    clinic_sizes = scale_data.sizes(a.group, a.clinics, a.large, a.small, a.scale)
    print(f"generating the group in database {a.db}: clinics of {clinic_sizes}", flush=True)
    scale_data.generate(a.db, clinic_sizes, secrets.token_urlsafe(12), a.reuse)
    print(f"generated in {time.perf_counter() - began:.0f} s; measuring", flush=True)
    results, cold, against = measure(a)
    print(report(results))
    if a.against:
        print(compare(results, against))
    for label, ms in cold.items():
        print(f"forecast chart not yet in the shared cache, first request ({label}): {ms:.0f} ms")
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
