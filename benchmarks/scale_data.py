"""The scale benchmark's clinic group: bulk rows for volume, one patient per measured clinic
built through the services.

The volume (patients, appointments, signed sessions, recall rows, audit events) is written with
bulk_create, NOT through the services: a benchmark generator only, for speed. Stored columns the
services would fill are filled by the same functions (`patients.normalise`), and the recall rows
by the rule the services use for a patient without a plan (the knowledge base's cadence from the
last signed session).

In each clinic that is measured, one patient goes the whole way through the services, as a
clinic would have made it (`tests/factories.py`): registered, screened, plan accepted, a session
charted and signed, a follow-up grade. That patient's record, forecast chart, series proposal and
FHIR export are the pages measured.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SESSIONS_PER_PATIENT = 4
APPOINTMENTS_PER_PATIENT = 8
AUDIT_PER_PATIENT = 35
PATIENTS_PER_PRACTITIONER = 1000
CADENCE_DAYS = 180
DAY_SLOTS = 8  # appointments a practitioner has in a day (09:00-17:00)
FAMILIES = ["Nguyen", "Smith", "Jones", "Patel", "Kowalski", "Okafor", "Garcia", "Brown"]


def sizes(group: int, clinics: int, large: int, small: int, scale: float) -> list[int]:
    """Patients per clinic: the small one, the large one, then the rest shared out."""
    group, large, small = (max(1, round(x * scale)) for x in (group, large, small))
    rest = max(0, group - large - small)
    others = max(0, clinics - 2)
    each = rest // others if others else 0
    return [small, large] + [each] * others


def _copy(model, rows: list[dict], **fixed) -> None:
    """Write `rows` ({attname: value}, plus `fixed` for every row) with PostgreSQL's COPY; every
    other column gets the model's default, as the ORM would give it."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    template = model(**{k: v for k, v in fixed.items() if not k.endswith("_id")})
    for k, v in fixed.items():
        setattr(template, k, v)
    default = {
        f.attname: f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields
    }
    names = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor
        with raw.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[n] if n in row else default[n] for n in names])


def _aware(day: date, hour: int):
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, clock_time(hour)))


def _people(clinic, n: int, index: int, rng: random.Random) -> list:
    from dermis.web.clinic import models as m
    from dermis.web.clinic.patients import normalise

    rows = []
    for i in range(n):
        given, family = f"Given{i}", f"{rng.choice(FAMILIES)}{i % 997}"
        phone = f"07700 {900000 + i % 100000:06d}"
        rows.append(
            m.Patient(
                clinic=clinic, given_name=given, family_name=family,
                date_of_birth=date(1950 + i % 50, 1 + i % 12, 1 + i % 28), fitzpatrick="III",
                phone=phone, email=f"p{index}-{i}@example.org",
                search_name=normalise.search_name(given, family),
                phone_normalised=normalise.phone(phone, clinic.country),
            )
        )  # fmt: skip
    return m.Patient.objects.bulk_create(rows, batch_size=5000)


def _history(patients, practitioners, location, today: date, rng: random.Random):
    """Appointments, signed sessions and recall rows: practitioner k's slot s is on day
    s // DAY_SLOTS from the start, hour 9 + s % DAY_SLOTS, so no two overlap; about one in eight
    lies ahead and is booked."""
    from dermis.web.clinic import models as m

    clinic = location.clinic
    n = len(patients)
    slots_each = n * APPOINTMENTS_PER_PATIENT // len(practitioners) + 1
    days = slots_each // DAY_SLOTS + 1
    first = today - timedelta(days=round(days * 7 / 5 * 7 / 8))
    first -= timedelta(days=first.weekday())  # a Monday: the five working days are Monday-Friday
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
            status = "booked" if ahead else rng.choice(["completed"] * 8 + ["no_show", "cancelled"])
            appointments.append(
                {
                    "patient_id": p.pk, "practitioner_id": who.pk, "kind": kind, "start": start,
                    "end": start + timedelta(minutes=60), "status": status,
                    "modality": "microneedling" if kind == "treatment" else "",
                }
            )  # fmt: skip
            if kind in ("treatment", "maintenance") and status == "booked":
                held = max(held or start, start)
            if kind == "treatment" and status == "completed":
                sessions.append(
                    {"patient_id": p.pk, "practitioner_id": who.pk, "performed_at": start,
                     "finalised_at": start}
                )  # fmt: skip
                last_done = day
        if last_done is not None:
            recall.append(
                {
                    "patient_id": p.pk, "due": last_done + timedelta(days=CADENCE_DAYS),
                    "booked_until": held,
                    "why": f"maintenance every 180-365 days after the last session, {last_done}",
                }
            )  # fmt: skip
    _copy(m.Appointment, appointments, clinic_id=clinic.pk, location_id=location.pk)
    _copy(
        m.TreatmentSession, sessions, modality="microneedling", device="automated_pen",
        cartridge="36-pin", lot_number="L1", status=m.TreatmentSession.Status.FINAL,
    )  # fmt: skip
    _copy(
        m.RecallEntry, recall, clinic_id=clinic.pk, section="maintenance", basis="cadence",
        modality="microneedling", minutes=60, version="bench",
        no_chart_reason="there is no active treatment plan yet",
    )  # fmt: skip


def _audit(clinic, user, patients, rng: random.Random) -> None:
    """`AUDIT_PER_PATIENT` events per patient, chained after the head as `append_many` chains
    them (the same `link`), written by COPY."""
    from types import SimpleNamespace

    from django.db import transaction
    from django.utils import timezone

    from dermis.web.clinic import models as m
    from dermis.web.clinic.audit_chain import link

    with transaction.atomic():
        head = m.AuditChainHead.locked()
        seq, last = head.seq, head.last_hash
        rows = []
        for p in patients:
            for _ in range(AUDIT_PER_PATIENT):
                seq += 1
                event = SimpleNamespace(
                    seq=seq, at=timezone.now(), clinic_id=clinic.pk, user_id=user.pk,
                    username=user.username, patient_id_ref=p.pk,
                    action=rng.choice(["view", "create", "update"]), object_type="Patient",
                    object_id=str(p.pk), summary="bench", path="/", ip_address=None,
                )  # fmt: skip
                last = link(last, event)
                rows.append({**vars(event), "chain_hash": last})
        _copy(m.AuditEvent, rows)
        head.seq, head.last_hash = seq, last
        head.save(update_fields=["seq", "last_hash"])


def _clinic(n: int, index: int, today: date, password: str):
    """One clinic of `n` patients with its admin, front desk and one practitioner per 1,000."""
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
    user_model = get_user_model()
    wanted = max(1, n // PATIENTS_PER_PRACTITIONER)  # practitioners
    users = user_model.objects.bulk_create(
        [user_model(username=f"b{index}-{r}", password=hashed) for r in ("admin", "desk")]
        + [user_model(username=f"b{index}-p{k}", password=hashed) for k in range(wanted)]
    )  # fmt: skip
    roles = [m.Role.ADMIN, m.Role.FRONT_DESK] + [m.Role.PRACTITIONER] * wanted
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
    patients = _people(clinic, n, index, rng)
    _history(patients, practitioners, location, today, rng)
    _audit(clinic, users[0], patients, rng)
    return clinic


def build_target(clinic) -> None:
    """One patient of `clinic` made the whole way through the services: the benchmark measures
    their record, chart, series proposal and FHIR export."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests import factories

    from dermis.web.clinic.models import Role, StaffMember

    practitioner = (
        StaffMember.objects.filter(clinic=clinic, role=Role.PRACTITIONER).order_by("pk").first()
    )
    factories.working_hours(practitioner)
    who = factories.patient(practitioner, given="Bench", family="Target")
    plan = factories.accepted_plan(practitioner, who)
    draft = factories.session(practitioner, who, plan=plan)
    factories.finalised(practitioner, draft)
    factories.grade(practitioner, who, 1.5)


def generate(db: str, clinic_sizes: list[int], password: str, reuse: bool) -> None:
    from django.core.management import call_command

    from dermis.web.clinic.models import Clinic

    call_command("migrate", verbosity=0)
    if reuse and Clinic.objects.filter(slug="bench-1").exists():
        return
    if Clinic.objects.filter(slug__startswith="bench-").exists():
        sys.exit(f"scale.py: database {db} already has a group: drop it, or pass --reuse")
    today = date.today()
    for index, n in enumerate(clinic_sizes):
        began = time.perf_counter()
        clinic = _clinic(n, index, today, password)
        if index < 2:
            build_target(clinic)
        print(f"  clinic {index}: {n} patients in {time.perf_counter() - began:.0f} s", flush=True)
    _analyse()


def _analyse() -> None:
    """Planner statistics and visibility maps as autovacuum keeps them on a clinic that grew over
    years (a freshly copied table has neither, and index-only scans would read the heap)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        # The generated gigabytes written out now, not by the checkpointer during the measuring
        # (CHECKPOINT needs a superuser or pg_checkpoint; without it the first run is noisier).
        cursor.execute(
            "SELECT rolsuper OR pg_has_role(current_user, 'pg_checkpoint', 'MEMBER')"
            " FROM pg_roles WHERE rolname = current_user"
        )
        if cursor.fetchone()[0]:
            cursor.execute("CHECKPOINT")
