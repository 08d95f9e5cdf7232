"""The demo world: every stage of the journey, made by the real core; idempotent; no production."""

from __future__ import annotations

import hashlib
import io
import itertools
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.utils import timezone
from PIL import Image

from dermis.core import gate
from dermis.core.adjust import Change, adjust
from dermis.core.aftercare import aftercare
from dermis.core.planning import Plan, plan
from dermis.core.screening import screen
from dermis.web.clinic import clock, safety
from dermis.web.clinic import models as m
from dermis.web.clinic.charting import photos as photo_store
from dermis.web.clinic.charting.services import record_intact
from dermis.web.clinic.consultations.consent_texts import consent_for
from dermis.web.clinic.core_inputs import (
    core_assessment,
    core_intake,
    core_patient,
    core_session,
    knowledge,
)
from dermis.web.clinic.demo import DemoError, build_demo
from dermis.web.clinic.demo.journeys import ClinicJourneys

TODAY = date(2026, 3, 18)
WRITTEN_BY_SERVICES = (
    m.Patient, m.Consultation, m.ConsentRecord, m.TreatmentPlan, m.Appointment,
    m.TreatmentSession, m.SessionAddendum, m.FollowUpGrade, m.Photo, m.ScreeningRecheck,
    m.Room, m.Equipment, m.Clinic, m.Location, m.StaffMember,
)  # fmt: skip
PASSWORD = "demo-password-for-tests-41"
SLUGS = ("demo-northgate", "demo-riverside")
COUNTED = (
    m.Clinic, m.Location, m.StaffMember, m.Patient, m.Consultation, m.ConsentRecord,
    m.TreatmentPlan, m.Appointment, m.TreatmentSession, m.SessionArea, m.Photo, m.FollowUpGrade,
    m.Room, m.Equipment, m.WorkingHours, get_user_model(),
)  # fmt: skip


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """One demo world for the read-only tests of TestDemoWorld, rolled back after them."""
    photos = tmp_path_factory.mktemp("photos")
    with (
        django_db_blocker.unblock(),
        override_settings(PHOTO_ROOT=photos, DEMO_PASSWORD=PASSWORD),
        transaction.atomic(),
    ):
        result = build_demo(today=TODAY)
        yield result
        transaction.set_rollback(True)


@pytest.fixture
def photo_root(db, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    settings.DEMO_PASSWORD = PASSWORD
    return settings.PHOTO_ROOT


def _login(username: str, password: str):
    return authenticate(
        RequestFactory().post("/accounts/login/"), username=username, password=password
    )


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def _day(on: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(on, time.min))
    return start, start + timedelta(days=1)


class TestDemoWorld:
    """Read-only checks on one build (building takes a second or two)."""

    def test_two_clinics_each_with_an_admin_two_practitioners_and_front_desk(self, demo, db):
        for slug in SLUGS:
            clinic = m.Clinic.objects.get(slug=slug)
            roles = sorted(clinic.staff.values_list("role", flat=True))
            assert roles == ["admin", "front_desk", "practitioner", "practitioner"]
            for p in clinic.staff.filter(role=m.Role.PRACTITIONER):
                assert p.listed_in_directory and p.credentials and p.bio and p.treatments
                assert p.locations.exists()
        assert m.Clinic.objects.get(slug="demo-northgate").locations.count() == 2
        assert [x.username for x in demo.logins][:4] == [
            "ng.admin",
            "ng.priya",
            "ng.tom",
            "ng.desk",
        ]
        assert [x.username for x in demo.logins][4:] == [
            "rs.admin",
            "rs.omar",
            "rs.isla",
            "rs.desk",
        ]

    def test_fifty_patients_spread_over_both_clinics(self, demo, db):
        assert demo.patients_created == 50
        for slug in SLUGS:
            assert m.Patient.objects.filter(clinic__slug=slug).count() == 25

    def test_registered_patients_have_only_a_consultation_booked(self, demo, db):
        registered = m.Patient.objects.filter(consultations=None)
        assert registered.count() >= 4
        for patient in registered:
            kinds = set(patient.appointments.values_list("kind", "status"))
            assert kinds == {("consultation", "booked")}

    def test_not_safe_and_deferred_consultations_come_from_screening(self, demo, db):
        not_safe = m.Consultation.objects.filter(proposal__status="not_safe")
        assert not_safe.count() >= 2
        assert all(c.status == "closed" and not c.plans.exists() for c in not_safe)
        assert {f["rule"] for c in not_safe for f in c.screening["findings"]} >= {
            "active_infection", "pregnancy",
        }  # fmt: skip
        deferred = [
            c for c in m.Consultation.objects.filter(status="open")
            if any(f["rule"] == "isotretinoin" for f in c.screening["findings"])
        ]  # fmt: skip
        assert deferred
        for c in deferred:
            start = date.fromisoformat(c.proposal["courses"][0]["earliest_start"])
            assert start > c.as_of
            assert c.patient.appointments.filter(start__date=start, status="booked").exists()

    def test_every_stored_snapshot_is_what_the_core_says(self, demo, db):
        kb = knowledge()
        for c in m.Consultation.objects.select_related("patient"):
            person = core_patient(c.patient, c.as_of)
            screening = screen(person, core_intake(c), kb, c.as_of)
            assert c.screening == screening.to_dict()
            assert c.proposal == plan(person, core_assessment(c), screening, kb).to_dict()
            assert c.knowledge_version == kb.version
        for p in m.TreatmentPlan.objects.filter(version=1):
            assert p.content == p.consultation.proposal

    def test_accepted_plans_have_a_signed_consent_and_booked_sessions(self, demo, db):
        plans = m.TreatmentPlan.objects.filter(status="active", version=1, sessions=None)
        assert plans.count() >= 4
        for p in plans:
            assert p.consultation.status == "accepted"
            shown = consent_for(c["modality"] for c in p.content["courses"])
            assert (p.consent.text_version, p.consent.text) == (shown.version, shown.text)
            assert p.consent.text_sha256 == hashlib.sha256(p.consent.text.encode()).hexdigest()
            assert Image.open(io.BytesIO(bytes(p.consent.signature_png))).format == "PNG"
            booked = p.appointments.filter(kind="treatment", status="booked")
            assert booked.count() == p.content["courses"][0]["sessions"]

    def test_a_revised_plan_is_the_core_adjustment_of_its_first_version(self, demo, db):
        revised = m.TreatmentPlan.objects.filter(version=2)
        assert revised.count() == 2  # one per clinic
        for v2 in revised:
            v1, c = v2.previous, v2.consultation
            assert (v1.status, v2.status, v2.consent_id) == ("superseded", "active", v1.consent_id)
            (record,) = v2.adjustments
            treatments = v1.content["courses"][0]["treatments"]
            index = next(
                (i for i, t in enumerate(treatments) if t["concern"] == record["concern"]), None
            )
            change = Change(0, record["what"], record["to"], record["reason"], index)
            person, assessment = core_patient(c.patient, c.as_of), core_assessment(c)
            again = adjust(v1.content, [change], person, assessment, c.screening, knowledge())
            assert again.content == v2.content and record["from"] != record["to"]
            assert v2.sessions.exists() or v2.appointments.filter(status="booked").exists()

    def test_charted_sessions_are_final_and_follow_the_plan(self, demo, db):
        sessions = m.TreatmentSession.objects.prefetch_related("areas").select_related("plan")
        assert sessions.count() > 50
        for s in sessions:
            assert s.is_final and s.finalised_by and s.lot_number
            assert record_intact(s)  # the hash the session page checks
            assert s.appointment.status == "completed" and s.appointment.start == s.performed_at
            # A treatment needing fewer sessions than the course stops earlier.
            course = Plan.from_dict(s.plan.content).courses[0]
            treated = {
                t.area for t in course.treatments if t.sessions >= s.appointment.series_index
            }
            assert {a.area for a in s.areas.all()} == treated
            # Two concerns on one area: one setting, the core's (the gentler of the two).
            for area in s.areas.all():
                if s.modality == "microneedling":
                    assert float(area.depth_mm) == course.area_depths()[area.area]
                else:
                    assert area.depth_mm is None and area.tip == course.area_tips()[area.area]

    def test_an_aftercare_is_in_progress_from_a_session_two_days_ago(self, demo, db):
        start, end = _day(TODAY - timedelta(days=2))
        recent = m.TreatmentSession.objects.filter(performed_at__gte=start, performed_at__lt=end)
        assert recent.exists()
        for s in recent:
            consultation = s.plan.consultation
            care = aftercare(
                core_session(s),
                core_patient(s.patient, TODAY),
                core_intake(consultation),
                knowledge(),
            )
            assert TODAY in [day.date for day in care.days]

    def test_completed_series_have_graded_follow_ups_and_photos(self, demo, db):
        completed = m.TreatmentPlan.objects.filter(status="completed")
        assert completed.count() >= 10
        for p in completed:
            grades = p.grades.all()
            assert grades, p
            for g in grades:
                assert g.baseline is not None and g.grade <= g.baseline
            stages = set(p.patient.photos.values_list("stage", flat=True))
            assert stages == {"before", "follow_up"}

    def test_photos_are_stored_files_that_decode(self, demo, db):
        photos = m.Photo.objects.all()
        assert photos.count() >= 20
        for photo in photos:
            path = photo_store.path_of(photo.storage_name)
            data = path.read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (photo.size_bytes, photo.sha256)
            with Image.open(path) as image:
                image.load()
                assert (image.format, image.size) == ("JPEG", (photo.width, photo.height))

    def test_some_patients_are_due_for_maintenance(self, demo, db):
        due = 0
        for p in m.TreatmentPlan.objects.filter(status="completed"):
            last = p.sessions.order_by("-performed_at").first().performed_at.date()
            if 304 <= (TODAY - last).days <= 427:  # 10 to 14 months
                assert not p.patient.appointments.filter(start__date__gt=TODAY).exists()
                due += 1
        assert due >= 4

    def test_the_stored_recall_list_is_the_computed_one(self, demo, db):
        from dermis.web.clinic.scheduling import recall, recall_list

        now = timezone.make_aware(datetime.combine(TODAY, time(12)))
        for slug in SLUGS:
            clinic = m.Clinic.objects.get(slug=slug)
            computed = recall.worklist(clinic, TODAY, now)
            stored = recall_list.worklist(clinic, TODAY, now)
            assert computed.maintenance, slug  # the demo has patients due
            assert [(r.patient, r.due, r.basis, r.why) for r in stored.maintenance] == [
                (r.patient, r.due, r.basis, r.why) for r in computed.maintenance
            ]
            assert [(r.plan, r.course, r.counted, r.due) for r in stored.incomplete] == [
                (r.plan, r.course, r.counted, r.last) for r in computed.incomplete
            ]
            assert [r.appointment for r in stored.follow_ups] == [
                r.appointment for r in computed.follow_ups
            ]

    def test_every_practitioner_has_appointments_today_and_no_overlaps(self, demo, db):
        start, end = _day(TODAY)
        diaries = defaultdict(list)
        for a in m.Appointment.objects.exclude(status="cancelled"):
            diaries[a.practitioner_id].append((a.start, a.end))
        for member in m.StaffMember.objects.filter(role=m.Role.PRACTITIONER):
            assert member.appointments.filter(start__gte=start, start__lt=end).exists(), member
            times = sorted(diaries[member.pk])
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(times)), member

    def test_what_is_done_lies_in_the_past_and_what_is_booked_ahead(self, demo, db):
        start, _ = _day(TODAY)
        assert not m.Appointment.objects.filter(status="completed", start__gte=start).exists()
        assert not m.Appointment.objects.filter(status="booked", start__lt=start).exists()
        assert not m.TreatmentSession.objects.filter(performed_at__gte=start).exists()

    def test_every_record_was_written_by_a_service_acting_for_the_demo_staff(self, demo, db):
        # Services are the only writers of audit rows: a row written around them has none.
        audited = defaultdict(set)
        unattended = []
        for event in m.AuditEvent.objects.filter(clinic__slug__in=SLUGS):
            assert event.summary.startswith("demo: "), event
            if event.user is None:
                unattended.append((event.clinic.slug, event.object_type, event.action))
            if event.action in ("create", "sign"):
                audited[event.object_type].add(event.object_id)
        # Before anyone works there: the operator creates the clinic, its system actor the admin.
        assert sorted(unattended) == sorted(
            (slug, kind, "create") for slug in SLUGS for kind in ("Clinic", "StaffMember")
        )
        for model in WRITTEN_BY_SERVICES:
            rows = {str(pk) for pk in model.objects.values_list("pk", flat=True)}
            assert rows and rows <= audited[model.__name__], model.__name__
        staff = m.StaffMember.objects.filter(clinic__slug__in=SLUGS)
        users = m.AuditEvent.objects.exclude(user=None).values_list("user", flat=True)
        assert set(users) <= set(staff.values_list("user", flat=True))

    def test_every_treatment_booked_ahead_passes_the_safety_gate(self, demo, db):
        kinds = (m.Appointment.Kind.TREATMENT, m.Appointment.Kind.MAINTENANCE)
        ahead = m.Appointment.objects.filter(status="booked", kind__in=kinds)
        assert ahead.count() >= 20
        with clock.frozen_at(timezone.make_aware(datetime.combine(TODAY, time(8)))):
            for a in ahead.select_related("patient", "plan"):
                assert not a.safety_flag and not a.provisional, a
                course = Plan.from_dict(a.plan.content).course_for(a.modality)
                act = gate.Act(
                    gate.ActKind.BOOK, a.modality, timezone.localdate(a.start), course.areas
                )
                ctx = safety.context(
                    a.patient,
                    notice_from=timezone.localdate(a.created_at),
                    precare_done=a.precare_confirmed,
                )
                verdict = gate.check(act, ctx, knowledge())
                assert verdict.allowed, verdict.message()
        # Booked at shorter notice than the pre-care asks: recorded done by the practitioner.
        assert ahead.filter(precare_confirmed=True).exists()

    def test_sessions_on_an_old_screening_had_the_check_at_the_chair(self, demo, db):
        late = 0
        for s in m.TreatmentSession.objects.select_related("plan__consultation", "patient"):
            day = timezone.localdate(s.performed_at)
            if (day - s.plan.consultation.as_of).days > s.patient.clinic.screening_max_age_days:
                late += 1
                assert s.patient.rechecks.filter(on=day, changed=False).exists(), s
        assert late >= 5

    def test_the_configured_password_logs_in_every_demo_account(self, demo, db):
        for login in demo.logins:
            assert _login(login.username, PASSWORD).username == login.username
        assert _login("ng.priya", "not-the-password") is None


def test_a_second_run_adds_nothing_and_resets_the_passwords(photo_root):
    build_demo(today=TODAY)
    before = _counts()

    again = build_demo(today=TODAY, password="another-demo-password-99")

    assert again.patients_created == 0
    assert _counts() == before
    assert _login("rs.omar", "another-demo-password-99") is not None
    assert _login("rs.omar", PASSWORD) is None


def test_a_random_password_per_run_when_none_is_configured(photo_root, settings):
    settings.DEMO_PASSWORD = ""

    first, second = build_demo(today=TODAY), build_demo(today=TODAY)

    assert len(first.password) >= 16 and first.password != second.password
    assert _login("ng.desk", second.password) is not None
    assert _login("ng.desk", first.password) is None


def test_a_later_run_books_today_for_practitioners_with_an_empty_diary(photo_root):
    build_demo(today=TODAY)
    later = TODAY + timedelta(days=60)

    build_demo(today=later)

    start, end = _day(later)
    for member in m.StaffMember.objects.filter(role=m.Role.PRACTITIONER):
        assert member.appointments.filter(start__gte=start, start__lt=end).exists()


def test_the_same_world_on_every_fresh_build(photo_root):
    def names():
        with transaction.atomic():
            build_demo(today=TODAY)
            made = list(
                m.Patient.objects.order_by("pk").values_list(
                    "given_name", "family_name", "date_of_birth"
                )
            )
            transaction.set_rollback(True)
        return made

    assert names() == names()


def test_refused_in_production(photo_root, settings):
    settings.PRODUCTION = True

    with pytest.raises(DemoError, match="production"):
        build_demo(today=TODAY)
    assert not m.Clinic.objects.exists()


def test_an_account_outside_the_demo_is_never_taken_over(photo_root):
    user = get_user_model().objects.create_user("rs.admin", password="someone-elses-password-1")

    with pytest.raises(DemoError, match=r"rs\.admin"):
        build_demo(today=TODAY)

    user.refresh_from_db()
    assert user.check_password("someone-elses-password-1")
    assert not m.Clinic.objects.exists()


def test_a_failed_build_leaves_no_rows_and_no_photo_files(photo_root, monkeypatch):
    def fail(self, k, member):
        raise RuntimeError("boom")

    monkeypatch.setattr(ClinicJourneys, "_maintenance", fail)

    with pytest.raises(RuntimeError):
        build_demo(today=TODAY)
    assert not m.Patient.objects.exists()
    assert not any(photo_root.iterdir())


def test_seed_demo_command_prints_the_logins(photo_root):
    out, err = io.StringIO(), io.StringIO()

    call_command("seed_demo", stdout=out, stderr=err)

    assert "seeding demo data: 50/50 patients" in err.getvalue()
    table = out.getvalue()
    assert "ng.priya" in table and "Practitioner" in table and PASSWORD in table


def test_seed_demo_command_refuses_production(photo_root, settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=io.StringIO())
