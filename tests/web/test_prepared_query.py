"""Queries composed once (clinic/prepared.py) build the same instances as the ORM, related
objects included, without further queries: the session's user and the API token's, and the recall
worklist's pages of rows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import Count, IntegerField, Subquery
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dermis.web.api.auth import TOKEN_WITH_USER
from dermis.web.api.models import ApiToken
from dermis.web.clinic import core_inputs
from dermis.web.clinic.accounts.backends import WITH_STAFF, StaffModelBackend, _user_by_id
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient, RecallRecompute
from dermis.web.clinic.prepared import PreparedQuery, PreparedRows
from dermis.web.clinic.scheduling import recall, recall_list
from dermis.web.clinic.tenancy.tokens import issue_token, token_hash
from tests import factories
from tests.web.test_recall_store import _clinic_of_many
from tests.web.test_recall_worklist import _treated

PATH = WITH_STAFF[0].split("__")  # staff, clinic, recall_recompute


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _chain(obj, path: list[str]) -> list:
    """obj, then each related object along `path` (None where the chain stops)."""
    out = [obj]
    for name in path:
        obj = getattr(obj, name, None) if obj is not None else None
        out.append(obj)
    return out


def _same(prepared, orm, path: list[str]) -> None:
    expected = [None if o is None else _values(o) for o in _chain(orm, path)]
    with CaptureQueriesContext(connection) as seen:
        got = [None if o is None else _values(o) for o in _chain(prepared, path)]
    assert seen.captured_queries == []  # every related object came with the row
    assert got == expected
    assert prepared._state.adding is False and prepared._state.db == orm._state.db


@pytest.mark.parametrize("recomputing", [False, True])
def test_the_sessions_user_is_what_the_orm_reads(world, recomputing):
    alice = world.user("alice")
    if recomputing:
        RecallRecompute.objects.create(clinic=world.northgate, version="v1", total=3)
    model = get_user_model()
    orm = model.objects.select_related(*WITH_STAFF).get(pk=alice.pk)
    with CaptureQueriesContext(connection) as seen:
        prepared = _user_by_id().first(alice.pk)
    assert len(seen.captured_queries) == 1
    _same(prepared, orm, PATH)
    assert (getattr(prepared.staff.clinic, "recall_recompute", None) is not None) == recomputing


def test_a_user_without_a_place_on_the_staff_reads_as_the_orm_does(world):
    nobody = world.user("nobody")
    prepared = _user_by_id().first(nobody.pk)
    orm = get_user_model().objects.select_related(*WITH_STAFF).get(pk=nobody.pk)
    _same(prepared, orm, PATH[:1])
    assert not hasattr(prepared, "staff")


def test_an_unknown_or_inactive_user_is_nobody(world):
    assert _user_by_id().first(10**9) is None
    assert StaffModelBackend().get_user(10**9) is None
    pat = world.user("pat")
    get_user_model().objects.filter(pk=pat.pk).update(is_active=False)
    assert StaffModelBackend().get_user(pat.pk) is None


def test_a_value_of_another_type_is_left_to_the_orm(world):
    alice = world.user("alice")
    assert _user_by_id().first(str(alice.pk)).pk == alice.pk


def test_the_api_tokens_user_is_what_the_orm_reads(world):
    _, token = issue_token(Actor.operator("cli"), username="fran", days=1, name="t")
    digest = token_hash(token)
    orm = (
        ApiToken.objects.select_related(*(f"user__{p}" for p in WITH_STAFF))
        .filter(token_sha256=digest)
        .get()
    )
    _same(TOKEN_WITH_USER.first(digest), orm, ["user", *PATH])
    assert TOKEN_WITH_USER.first(token_hash("drm_not-issued")) is None


def test_a_query_that_takes_its_value_twice_gets_it_in_both_places(world):
    model = get_user_model()
    alice, pat = world.user("alice"), world.user("pat")
    twice = PreparedQuery(
        model, lambda pk: model.objects.filter(pk=pk).exclude(pk__lt=pk).exclude(pk__gt=pk), int
    )
    assert twice.first(alice.pk) == alice and twice.first(pat.pk) == pat
    assert twice.first(10**9) is None


# --- PreparedRows: a page of rows by several values (the recall worklist's three sections) ------


def _loaded(obj) -> tuple:
    """The fields read with the row, and which were left unread (deferred)."""
    deferred = obj.get_deferred_fields()
    fields = obj._meta.concrete_fields
    return {
        f.attname: getattr(obj, f.attname) for f in fields if f.attname not in deferred
    }, sorted(deferred)


def _related(obj, names: list[str]) -> list:
    """The object's fields, then each related object's along `names` (reverse one-to-ones read
    as None where there is none)."""
    out = [_loaded(obj)]
    for name in names:
        here = obj
        for step in name.split("__"):
            try:
                here = getattr(here, step) if here is not None else None
            except ObjectDoesNotExist:
                here = None
        out.append(None if here is None else _loaded(here))
    return out


SECTIONS = {
    "maintenance": (
        recall_list.MAINTENANCE,
        ["patient", "patient__latest_recall_contact__contact"],
    ),
    "incomplete": (
        recall_list.INCOMPLETE,
        ["patient", "plan", "patient__latest_recall_contact__contact"],
    ),
    "follow_ups": (
        recall_list.FOLLOW_UPS,
        ["patient", "patient__latest_recall_contact__contact"],  # the practitioner by name
    ),
}


@pytest.mark.parametrize("section", SECTIONS)
def test_a_prepared_page_of_rows_is_what_the_orm_reads(world, section, monkeypatch):
    _clinic_of_many(world, extra=12)
    now = timezone.now()
    today = timezone.localdate(now)
    values = {
        "clinic": world.northgate.pk,
        "due_by": today + timedelta(days=recall.HORIZON_DAYS),
        "now": now,
        "today": today,
    }
    prepared, related = SECTIONS[section]
    monkeypatch.setattr(prepared, "_recipes", {})  # none composed by an earlier test
    values = {k: v for k, v in values.items() if k in prepared.kinds}
    shapes = 0
    for limit, offset in ((3, 0), (3, 3), (50, 0), (3, 0), (2, 40)):
        orm = list(prepared.build(**values)[offset : offset + limit])
        with CaptureQueriesContext(connection) as seen:
            got = prepared.rows(limit, offset, **values)
            read = [_related(o, related) for o in got]
        assert len(seen.captured_queries) == 1  # related objects came with the rows
        assert read == [_related(o, related) for o in orm]
        if section == "follow_ups":  # the name read with the row is the practitioner's
            names = [o.practitioner_name for o in got]
            assert names == [o.practitioner.display_name for o in orm] and all(names)
        assert [type(o) for o in got] == [type(o) for o in orm]
        assert all(o._state.adding is False and o._state.db == "default" for o in got)
        shapes = len(prepared._recipes)
    assert shapes == 4  # (3, 0) read again with the SQL composed the first time
    assert any(prepared.rows(50, 0, **values))  # the clinic has rows in every section


def test_a_prepared_page_takes_its_values_by_name_and_type(world):
    rows = recall_list.INCOMPLETE
    with pytest.raises(TypeError, match="today"):
        rows.rows(5, 0, clinic=world.northgate.pk)
    # Another type than declared is left to the ORM, with the same answer.
    assert rows.rows(5, 0, clinic=str(world.northgate.pk), today=timezone.localdate()) == list(
        rows.build(clinic=world.northgate.pk, today=timezone.localdate())[:5]
    )


def test_a_value_that_does_not_reach_the_sql_as_given_is_refused(world):
    """A value computed from another inside the query (here, one more) cannot be found among the
    composed parameters: it must be passed as a value of its own."""
    model = get_user_model()
    shifted = PreparedRows(model, lambda low: model.objects.filter(pk__gte=low + 1), low=int)
    with pytest.raises(ValueError, match="low"):
        shifted.rows(5, 0, low=1)


def test_a_value_asked_for_again_by_a_subquery_and_an_annotation_read_as_the_orm_does(world):
    """The same value in the query and in its subquery is put in both places, and an annotation
    is given to each row (the dashboard's day and its count)."""
    model = get_user_model()

    def build(low: int):
        counted = Subquery(
            model.objects.filter(pk__gte=low)
            .order_by()
            .values("is_active")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        )
        return model.objects.filter(pk__gte=low).annotate(total=counted).order_by("pk")

    prepared = PreparedRows(model, build, low=int)
    for low in (0, world.user("pat").pk, 10**9):
        orm = list(build(low)[:50])
        got = prepared.rows(50, low=low)
        assert [(u.pk, u.total) for u in got] == [(u.pk, u.total) for u in orm]
    assert len(prepared._recipes) == 1


# --- A patient's plan, consultation, sessions and grades (core_inputs), read on most clinical pages


def test_a_patients_clinical_rows_are_what_the_related_managers_read(world):
    pat, ada = world.pat, factories.patient(world.pat, "Ada", "Reads")
    factories.accepted_plan(pat, ada)
    second = factories.accepted_plan(pat, ada, severity=3)  # version 2, the active one
    _treated(ada, pat, timezone.localdate() - timedelta(days=60), 2, second)  # signed
    factories.session(pat, ada, plan=second, areas={"cheeks": 0.75})  # a draft
    for value in (2, 1):
        factories.grade(pat, ada, value)
    expected = {
        "plan": ada.plans.filter(status="active").order_by("-version").first(),
        "consultation": ada.consultations.order_by("-created_at", "-pk").first(),
        "sessions": list(ada.sessions.prefetch_related("areas").order_by("performed_at", "pk")),
        "grades": list(ada.grades.order_by("graded_on", "pk")),
    }
    assert expected["plan"].version == 2 and len(expected["sessions"]) == 3
    fresh = Patient.objects.get(pk=ada.pk)
    with core_inputs.read_once(fresh), CaptureQueriesContext(connection) as seen:
        got = {
            "plan": core_inputs.active_plan(fresh),
            "consultation": core_inputs.latest_consultation(fresh),
            "sessions": core_inputs.sessions(fresh),
            "grades": core_inputs.grades(fresh),
        }
        read = len(seen.captured_queries)
        # The rows know their patient, and the sessions their areas: nothing more is read.
        for obj in [got["plan"], got["consultation"], *got["sessions"], *got["grades"]]:
            assert obj.patient is fresh
        areas = [[_values(a) for a in s.areas.all()] for s in got["sessions"]]
        assert len(seen.captured_queries) == read == 5  # four, and the sessions' areas
    assert _values(got["plan"]) == _values(expected["plan"])
    assert _values(got["consultation"]) == _values(expected["consultation"])
    assert [_values(s) for s in got["sessions"]] == [_values(s) for s in expected["sessions"]]
    assert areas == [[_values(a) for a in s.areas.all()] for s in expected["sessions"]]
    assert [_values(g) for g in got["grades"]] == [_values(g) for g in expected["grades"]]


def test_a_patient_with_nothing_yet_has_no_plan_consultation_sessions_or_grades(world):
    bare = factories.patient(world.pat, "Bo", "Bare")
    with core_inputs.read_once(bare):
        assert core_inputs.active_plan(bare) is None
        assert core_inputs.latest_consultation(bare) is None
        assert core_inputs.sessions(bare) == [] and core_inputs.grades(bare) == []


def test_the_record_pages_lists_are_what_the_orm_reads(world):
    """Appointments to come and past (their practitioner and location with them), consultations
    and plan versions, as the record page lists them."""
    from dermis.web.clinic.models import Appointment, Consultation, TreatmentPlan
    from dermis.web.clinic.patients import views

    pat, ada = world.pat, factories.patient(world.pat, "Ada", "Listed")
    factories.working_hours(pat)
    factories.accepted_plan(pat, ada)
    factories.accepted_plan(pat, ada, severity=3)
    made = sorted(
        (factories.appointment(pat, ada, factories.next_weekday_at(hour, 1)) for hour in (9, 11)),
        key=lambda a: a.start,
    )
    factories.appointment(pat, ada, factories.next_weekday_at(14, 3))
    now = made[1].start + timedelta(minutes=1)  # the first past, the other two to come
    mine = {"patient": ada}
    appointments = Appointment.objects.filter(patient=ada).select_related(
        "practitioner", "location"
    )
    pairs = [
        (
            views.UPCOMING.rows(20, patient=ada.pk, now=now, known=mine),
            appointments.filter(end__gte=now).order_by("start")[:20],
            ["practitioner", "location"],
        ),
        (
            views.PAST.rows(10, patient=ada.pk, now=now, known=mine),
            appointments.filter(end__lt=now).order_by("-start")[:10],
            ["practitioner", "location"],
        ),
        (
            views.CONSULTATIONS.rows(None, patient=ada.pk, known=mine),
            Consultation.objects.filter(patient=ada)
            .select_related("practitioner")
            .order_by("-created_at", "-pk"),
            ["practitioner"],
        ),
        (
            views.PLAN_VERSIONS.rows(None, patient=ada.pk, known=mine),
            TreatmentPlan.objects.filter(patient=ada)
            .select_related("created_by__staff")
            .order_by("-version"),
            ["created_by", "created_by__staff"],
        ),
    ]
    sizes = []
    for got, orm, related in pairs:
        with CaptureQueriesContext(connection) as seen:
            read = [_related(o, related) for o in got]
            assert all(o.patient is ada for o in got)
        assert seen.captured_queries == []
        assert read == [_related(o, related) for o in orm]
        sizes.append(len(got))
    assert sizes == [2, 1, 2, 2]


def test_the_record_pages_panels_and_a_patient_page_read_what_the_orm_reads(
    world, settings, tmp_path
):
    """A patient in the staff member's clinic (none in another's), the clinic's active outcome
    parameter set, the treatments still to chart, photos, reported check-ins and the erasure
    request, as the record page's panels list them."""
    from dermis.web.clinic import access
    from dermis.web.clinic.charting import record_panels as dermis_charting
    from dermis.web.clinic.models import (
        Appointment,
        CheckIn,
        ErasureRequest,
        OutcomeParameterSet,
        Photo,
    )
    from dermis.web.clinic.outcomes import parameter_sets
    from dermis.web.clinic.portal import record_panels as dermis_portal
    from tests.web.full_world import journey

    settings.PHOTO_ROOT = tmp_path / "photos"
    nora = world.nora
    made = journey(nora, world.pat)
    second = Photo.objects.get(pk=made["photo"].pk)
    second.pk, second.storage_name = None, second.storage_name + "-2"
    second.save()  # the same day: the upload time and then the id break the tie
    for day, improvement in ((1, None), (3, 5), (7, 6), (9, 6)):
        CheckIn.objects.create(
            patient=nora, session=made["session"], day=day, looks="same", feels="fine",
            improvement=improvement,
        )  # fmt: skip
    for reason in ("first", "second"):
        ErasureRequest.objects.create(patient=nora, reason=reason)
    for days, kind, status in (
        (1, "treatment", "booked"), (2, "consultation", "booked"), (3, "maintenance", "confirmed"),
        (4, "treatment", "cancelled"), (5, "treatment", "arrived"),
    ):  # fmt: skip
        at = factories.next_weekday_at(10, days)
        Appointment.objects.create(
            clinic=world.northgate, patient=nora, practitioner=world.pat, start=at,
            end=at + timedelta(hours=1), kind=kind, status=status,
        )  # fmt: skip
    start = timezone.now() - timedelta(days=400)
    mine = {"patient": nora}
    pairs = [
        (
            access.PATIENT_IN_CLINIC.rows(1, patient=nora.pk, clinic=world.northgate.pk),
            Patient.objects.filter(pk=nora.pk, clinic=world.northgate)[:1],
            ["clinic"],
        ),
        (
            dermis_charting.UPCOMING_TREATMENTS.rows(5, patient=nora.pk, start=start, known=mine),
            nora.appointments.filter(
                start__gte=start,
                status__in=("booked", "confirmed", "arrived"),
                kind__in=[Appointment.Kind.TREATMENT, Appointment.Kind.MAINTENANCE],
                session__isnull=True,
            )
            .select_related("practitioner")
            .order_by("start")[:5],
            ["practitioner"],
        ),
        (
            dermis_charting.PHOTOS.rows(None, patient=nora.pk, known=mine),
            nora.photos.order_by("-taken_on", "-uploaded_at", "-pk"),
            [],
        ),
        (
            dermis_portal.REPORTED.rows(10, patient=nora.pk, known=mine),
            nora.check_ins.exclude(improvement=None).order_by("-created_at", "-pk")[:10],
            [],
        ),
        (
            dermis_portal.ERASURE_ASKED.rows(1, patient=nora.pk, known=mine),
            nora.erasure_requests.all()[:1],
            [],
        ),
    ]
    sizes = []
    for got, orm, related in pairs:
        assert [_related(o, related) for o in got] == [_related(o, related) for o in orm]
        sizes.append(len(got))
    assert sizes == [1, 3, 2, 3, 1]
    assert access.PATIENT_IN_CLINIC.rows(1, patient=nora.pk, clinic=world.riverside.pk) == []
    assert parameter_sets.active_set(world.northgate) is None
    row = OutcomeParameterSet.objects.create(
        clinic=world.northgate, version="clinic-2026-01-01-abcdef12",
        base_version="packaged-2026.2", data=parameter_sets.packaged().to_dict(), active=True,
    )  # fmt: skip
    assert _loaded(parameter_sets.active_set(world.northgate)) == _loaded(row)
    assert parameter_sets.active_set(world.riverside.pk) is None


def test_what_the_gate_reads_and_a_patients_object_are_what_the_orm_reads(world):
    """The gate's overrides, screening recheck and sessions of a patient, and an object of a
    patient in the staff member's clinic (none in another's), as `clinic_object` reads it."""
    from types import SimpleNamespace

    from django.http import Http404

    from dermis.web.clinic import access, safety
    from dermis.web.clinic.models import Appointment, SafetyOverride, ScreeningRecheck
    from tests.web.full_world import journey

    nora = world.nora
    made = journey(nora, world.pat)
    now = timezone.now()
    for days, rule in ((3, "older"), (1, "newer")):
        SafetyOverride.objects.create(
            patient=nora, rule=rule, modality="microneedling", reason="a written reason",
            created_at=now - timedelta(days=days),
        )  # fmt: skip
    for days, changed in ((5, True), (2, False)):
        ScreeningRecheck.objects.create(
            patient=nora, on=now.date() - timedelta(days=days), changed=changed
        )
    pairs = [
        (safety.OVERRIDES.rows(None, patient=nora.pk), nora.safety_overrides.all()),
        (safety.RECHECK.rows(1, patient=nora.pk), nora.rechecks.all()[:1]),
        (
            safety.SESSIONS_DONE.rows(None, patient=nora.pk),
            nora.sessions.only("patient", "modality", "performed_at", "status"),
        ),
    ]
    for got, orm in pairs:
        assert [_loaded(o) for o in got] == [_loaded(o) for o in orm]
    assert [o.rule for o in pairs[0][0]] == ["newer", "older"]
    assert [r.changed for r in pairs[1][0]] == [False]
    assert len(pairs[2][0]) == 2

    appointment = made["appointment"]
    mine = SimpleNamespace(
        staff=SimpleNamespace(clinic_id=world.northgate.pk, clinic=world.northgate)
    )
    theirs = SimpleNamespace(
        staff=SimpleNamespace(clinic_id=world.riverside.pk, clinic=world.riverside)
    )
    got = access.clinic_object(mine, Appointment, appointment.pk)
    orm = Appointment.objects.select_related("patient").get(pk=appointment.pk)
    assert _related(got, ["patient"]) == _related(orm, ["patient"])
    for request, pk in ((theirs, appointment.pk), (mine, 2**63 + 5), (mine, 10**30)):
        with pytest.raises(Http404):
            access.clinic_object(request, Appointment, pk)
    # An id no column holds is left to the ORM (SQLite's driver cannot send it) and finds nothing.
    assert access.PATIENT_IN_CLINIC.rows(1, patient=10**30, clinic=world.northgate.pk) == []


def test_prepared_values_are_what_the_orm_reads_whatever_the_lists(world):
    """The calendar's reads composed once (`PreparedValues`): busy times of practitioners, rooms
    and devices, time off, working hours and the diary's appointments give the ORM's tuples,
    with lists of every length (empty ones too) and repeats."""
    from django.db.models import Q

    from dermis.web.clinic.models import (
        LONGEST_APPOINTMENT,
        Appointment,
        Equipment,
        Location,
        Room,
        TimeOff,
        WorkingHours,
    )
    from dermis.web.clinic.prepared import PreparedValues
    from dermis.web.clinic.scheduling import availability, diary

    place = Location.objects.filter(clinic=world.northgate).first()
    room = Room.objects.create(clinic=world.northgate, location=place, name="Room B")
    pen = Equipment.objects.create(clinic=world.northgate, name="Pen B", device="automated_pen")
    start = factories.next_weekday_at(9, 1)
    made = []
    for i, (who, where, what, status) in enumerate(
        [
            (world.pat, None, None, "booked"),
            (world.alice, room, None, "confirmed"),
            (world.alice, None, pen, "booked"),
            (world.pat, room, pen, "cancelled"),
        ]
    ):
        at = start + timedelta(hours=i)
        made.append(
            Appointment.objects.create(
                clinic=world.northgate, patient=world.nora, practitioner=who, start=at,
                end=at + timedelta(minutes=45), kind="treatment", status=status, room=where,
                equipment=what, location=place,
            )
        )  # fmt: skip
    TimeOff.objects.create(staff=world.pat, start=start, end=start + timedelta(days=1))
    WorkingHours.objects.create(staff=world.pat, weekday=1, start="09:00", end="17:00")
    WorkingHours.objects.create(
        staff=world.alice, weekday=2, start="10:00", end="12:00", location=place
    )
    end = start + timedelta(days=7)
    staffs = [[], [world.pat.pk], [world.pat.pk, world.alice.pk, world.pat.pk]]
    asked = 0
    for staff in staffs:
        for rooms in ([], [room.pk]):
            for exclude in ([], [made[0].pk]):
                values = {
                    "staff": staff, "rooms": rooms, "devices": [pen.pk] if rooms else [],
                    "start": start, "end": end, "earliest": start - LONGEST_APPOINTMENT,
                    "exclude": exclude,
                }  # fmt: skip
                got = availability.BUSY.rows(**values)
                assert got == list(availability.BUSY.build(**values))
                asked += len(got)
        away = {"staff": staff, "start": start, "end": end}
        assert availability.AWAY.rows(**away) == list(availability.AWAY.build(**away))
        assert availability.HOURS.rows(staff=staff) == list(availability.HOURS.build(staff=staff))
        at = {"staff": staff, "location": place.pk}
        assert availability.HOURS_AT.rows(**at) == list(availability.HOURS_AT.build(**at))
        shown = {
            "clinic": world.northgate.pk, "staff": staff, "start": start, "end": end,
            "earliest": start - LONGEST_APPOINTMENT,
        }  # fmt: skip
        assert diary.SHOWN_OF_STAFF.rows(**shown) == list(diary.SHOWN_OF_STAFF.build(**shown))
    assert asked > 0  # some of them found rows
    from dermis.web.clinic.models import TreatmentSession
    from dermis.web.clinic.scheduling import series
    from tests.web.full_world import journey

    done = journey(world.nora, world.pat)
    plan = done["plan"]
    TreatmentSession.objects.filter(pk=done["session"].pk).update(status="final")
    Appointment.objects.filter(pk__in=[m.pk for m in made]).update(plan=plan)
    for plans in ([], [plan.pk], [plan.pk, plan.pk + 1000]):
        booked = series.BOOKED_OF_PLANS.rows(plans=plans)
        assert booked == list(series.BOOKED_OF_PLANS.build(plans=plans))
        charted = series.CHARTED_OF_PLANS.rows(plans=plans)
        assert charted == list(series.CHARTED_OF_PLANS.build(plans=plans))
    # the three open ones above and the one the journey charted; not the cancelled one
    assert len(series.BOOKED_OF_PLANS.rows(plans=[plan.pk])) == 4
    signed = series.CHARTED_OF_PLANS.rows(plans=[plan.pk])
    assert (done["appointment"].pk, "microneedling") in {(a, m) for _, a, m in signed}
    both = availability.BUSY.rows(
        staff=[world.pat.pk, world.alice.pk], rooms=[room.pk], devices=[pen.pk], start=start,
        end=end, earliest=start - LONGEST_APPOINTMENT, exclude=[],
    )  # fmt: skip
    assert len(both) == 3  # the cancelled one holds nothing
    assert len(availability.HOURS.rows(staff=[world.pat.pk, world.alice.pk])) == 2
    flat = PreparedValues(
        Room, lambda clinic: Room.objects.filter(clinic_id=clinic).values_list("pk", flat=True),
        flat=True, clinic=int,
    )  # fmt: skip
    assert flat.rows(clinic=world.northgate.pk) == list(
        Room.objects.filter(clinic=world.northgate).values_list("pk", flat=True)
    )
    rows = PreparedValues(Room, lambda clinic: Room.objects.filter(clinic_id=clinic), clinic=int)
    with pytest.raises(ValueError, match="values_list"):
        rows.rows(clinic=world.northgate.pk)  # not a values_list: PreparedRows reads models
    q = Q(pk__in=[])  # an empty list the query needs a member of: nothing, without asking
    nothing = PreparedValues(
        Room, lambda ids: Room.objects.filter(q | Q(pk__in=ids)).values_list("pk"), ids=list
    )
    assert nothing.rows(ids=[]) == [] and nothing.rows(ids=[room.pk]) == [(room.pk,)]


def test_the_clinics_treating_staff_and_locations_are_what_the_orm_reads(world):
    """What the diary and the availability page list, composed once: the clinic's practitioners
    and admins by name (not front desk, not another clinic's), and its locations."""
    from dermis.web.clinic.models import Location, Role, StaffMember
    from dermis.web.clinic.scheduling import availability
    from dermis.web.clinic.scheduling.forms import practitioners

    for clinic in (world.northgate, world.riverside):
        got = availability.treating_staff(clinic)
        assert [_loaded(s) for s in got] == [_loaded(s) for s in practitioners(clinic)]
        assert all(s.clinic is clinic for s in got)  # given, not read again
        places = availability.clinic_locations(clinic)
        assert [_loaded(p) for p in places] == [
            _loaded(p) for p in Location.objects.filter(clinic=clinic)
        ]
    names = [s.display_name for s in availability.treating_staff(world.northgate)]
    assert names == sorted(names) and world.pat.display_name in names
    desk = StaffMember.objects.filter(clinic=world.northgate, role=Role.FRONT_DESK)
    assert desk.exists() and not set(desk.values_list("display_name", flat=True)) & set(names)


def test_closures_rooms_and_equipment_a_proposal_reads_are_what_the_orm_reads(world):
    """Composed once: the closed days at a location, clinic-wide and anywhere (the slot search
    and the diary), the rooms at a location and the clinic's equipment of a proposal's devices."""
    from dermis.web.clinic.models import ClosureDay, Equipment, Location, Room
    from dermis.web.clinic.scheduling import closures, series

    clinic = world.northgate
    place = Location.objects.filter(clinic=clinic).first()
    other = Location.objects.create(clinic=clinic, name="Annexe", country="")
    first = date(2027, 3, 1)
    for offset, where, reason in [
        (0, None, "staff training"),
        (2, place, ""),
        (3, other, "flood"),
        (40, None, "out of range"),
    ]:
        day = first + timedelta(days=offset)
        ClosureDay.objects.create(clinic=clinic, location=where, day=day, reason=reason)
    ClosureDay.objects.create(clinic=world.riverside, day=first, reason="another clinic")
    last = first + timedelta(days=10)
    for location in (place.pk, other.pk, 10**6):
        values = {"clinic": clinic.pk, "location": location, "first": first, "last": last}
        got = closures.CLOSED_AT.rows(**values)
        assert got == list(closures.CLOSED_AT.build(**values)) and got
    span = {"clinic": clinic.pk, "first": first, "last": last}
    for prepared in (closures.CLOSED_EVERYWHERE, closures.CLOSED_ANYWHERE):
        assert prepared.rows(**span) == list(prepared.build(**span))
    assert [d for d, _ in closures.CLOSED_EVERYWHERE.rows(**span)] == [first]
    assert len(closures.CLOSED_ANYWHERE.rows(**span)) == 3  # not the one out of range
    at_place = closures.closed_days(clinic.pk, place, first, last)
    assert at_place[first] == "staff training" and at_place[first + timedelta(days=2)]
    assert first + timedelta(days=3) not in at_place  # the annexe's

    Room.objects.create(clinic=clinic, location=place, name="Room B")
    Room.objects.create(clinic=clinic, location=other, name="Annexe room")
    for where in (place, other):
        got = series.usable_rooms(clinic, world.pat, where)
        assert [r.pk for r in got] == [
            r.pk for r in Room.objects.filter(clinic=clinic, location=where)
        ]
        assert got and all(r.clinic is clinic for r in got)
    Equipment.objects.create(clinic=clinic, name="Pen B", device="automated_pen")
    Equipment.objects.create(clinic=clinic, name="Tips", device="dermaroller")
    Equipment.objects.create(clinic=world.riverside, name="Theirs", device="automated_pen")
    for devices in ({"automated_pen"}, {"automated_pen", "dermaroller"}, set(), {"none"}):
        got = series.clinic_equipment(clinic, devices)
        assert [e.pk for e in got] == [
            e.pk for e in Equipment.objects.filter(clinic=clinic, device__in=devices)
        ]
    assert len(series.clinic_equipment(clinic, {"automated_pen", "dermaroller"})) >= 2


def test_a_prepared_count_is_the_orms_count(world):
    """`PreparedCount`: the API's reminder lists (each state) and waitlist, counted and paged
    through queries composed once, give the ORM's count and rows for every page; a value of
    another type is left to the ORM, and a query that can match nothing counts 0 unasked."""
    from dermis.web.api.routers import messaging
    from dermis.web.clinic.models import Reminder, WaitlistEntry
    from dermis.web.clinic.prepared import PreparedCount

    now = timezone.now()
    for i, status in enumerate(["failed", "failed", "pending", "sending", "sent", "failed"]):
        who = world.nora if i < 5 else world.rhys  # the last is Riverside's
        Reminder.objects.create(
            key=f"c{i}", patient=who, kind="recall", status=status, attempts=1 + i % 2,
            due_at=now - timedelta(hours=i),
        )  # fmt: skip
    for who in (world.nora, world.nora, world.rhys):
        WaitlistEntry.objects.create(clinic=who.clinic, patient=who)
    pairs = [*messaging.REMINDER_PAGES.values(), (messaging.WAITING, messaging.WAITING_COUNT)]
    for clinic in (world.northgate, world.riverside):
        for page, count in pairs:
            orm = page.build(clinic=clinic.pk)
            assert count.count(clinic=clinic.pk) == orm.count()
            for limit, offset in ((1, 0), (1, 1), (50, 0), (2, 5)):
                got = page.rows(limit, offset, clinic=clinic.pk)
                assert [r.pk for r in got] == [r.pk for r in orm[offset : offset + limit]]
    failed = messaging.REMINDER_PAGES["failed"][1]
    assert failed.count(clinic=world.northgate.pk) == 2
    assert failed.count(clinic=world.riverside.pk) == 1
    assert messaging.WAITING_COUNT.count(clinic=world.northgate.pk) == 2
    assert failed.count(clinic=str(world.northgate.pk)) == 2  # to the ORM, the same answer
    with pytest.raises(TypeError, match="clinic"):
        failed.count()
    none = PreparedCount(Reminder, lambda clinic: Reminder.objects.filter(pk__in=[]), clinic=int)
    with CaptureQueriesContext(connection) as seen:
        assert none.count(clinic=world.northgate.pk) == 0
    assert not seen.captured_queries


def test_the_apis_appointment_list_is_what_the_orm_reads_with_any_filters(world):
    """The API's appointment list, composed once per set of filters given: every one of the 32
    sets pages and counts as the ORM does, and the tally counts the clinic's appointments by
    status without reading them."""
    import itertools

    from dermis.web.api.routers import appointments as api
    from dermis.web.clinic.models import Appointment
    from dermis.web.clinic.scheduling import selectors

    factories.working_hours(world.pat)
    factories.working_hours(world.alice)
    for i, (who, patient) in enumerate([(world.pat, world.nora), (world.alice, world.nora)] * 3):
        factories.appointment(who, patient, factories.next_weekday_at(9 + i, 2 + i))
    first = Appointment.objects.filter(clinic=world.northgate).order_by("start").first()
    Appointment.objects.filter(pk=first.pk).update(status="confirmed")
    values = {
        "start_from": first.start,
        "start_before": first.start + timedelta(days=6),
        "patient": world.nora.pk,
        "practitioner": world.alice.pk,
        "status": "booked",
    }
    found = 0
    for n in range(len(values) + 1):
        for names in itertools.combinations(sorted(values), n):
            given = {name: values[name] for name in names}
            page, counted = api._prepared(frozenset(names))
            orm = api._appointments(world.northgate.pk, **given)
            assert counted.count(clinic=world.northgate.pk, **given) == orm.count()
            for limit, offset in ((2, 0), (2, 2), (50, 0)):
                got = page.rows(limit, offset, clinic=world.northgate.pk, **given)
                assert [a.pk for a in got] == [a.pk for a in orm[offset : offset + limit]]
                found += len(got)
    assert found > 0
    assert len(api._prepared(frozenset())[0].rows(50, clinic=world.northgate.pk)) == 6
    assert selectors.appointment_count(world.northgate) == 6
    assert selectors.appointment_count(world.northgate, "confirmed") == 1
    assert selectors.appointment_count(world.northgate, "no_show") == 0


def test_the_apis_staff_list_reads_what_the_orm_reads(world):
    """The API's staff list, composed once: every member's columns (treatments read as the JSON
    field gives them) and their locations in the locations' order, for each clinic."""
    from dermis.web.api.routers import staff
    from dermis.web.clinic.models import Location

    annexe = Location.objects.create(clinic=world.northgate, name="Annexe", town="Leeds")
    wing = Location.objects.create(clinic=world.northgate, name="Wing", town="Leeds")
    world.pat.locations.add(annexe, wing)
    for clinic in (world.northgate, world.riverside):
        for prepared in (staff.LINKS, staff.PEOPLE):
            got = prepared.rows(clinic=clinic.pk)
            assert got == list(prepared.build(clinic=clinic.pk))
    links = staff.LINKS.rows(clinic=world.northgate.pk)
    assert [r[1] for r in links if r[0] == world.pat.pk] == ["Annexe", "Wing"]
    assert any(isinstance(r[4], list) for r in staff.PEOPLE.rows(clinic=world.northgate.pk))


def test_the_patient_list_as_it_opens_is_what_the_orm_reads(world, client_as, api_as):
    """Nothing narrowing the list: its pages (web and API) come through the query composed once,
    in the ORM's order, counted by the tally; a search still goes to the ORM."""
    from dermis.web.clinic.actors import Actor
    from dermis.web.clinic.models import Patient
    from dermis.web.clinic.patients import selectors
    from dermis.web.clinic.patients.filters import PatientFilter
    from dermis.web.clinic.prepared import Paged

    for i in range(30):
        factories.patient(world.fran, given="Amy", family=f"Zed{i:02d}")
    actor = Actor.of_staff(world.fran)
    listed = selectors.search(actor, PatientFilter())
    orm = Patient.objects.filter(clinic=world.northgate).order_by("family_name", "given_name", "pk")
    assert isinstance(listed, Paged)
    assert listed.count() == len(listed) == orm.count() == selectors.tally(world.northgate)
    for start, stop in ((0, 25), (25, 50), (5, 6), (40, 60), (1000, 1025)):
        assert [p.pk for p in listed[start:stop]] == [p.pk for p in orm[start:stop]]
    assert all(p.clinic is world.northgate for p in listed[0:5])
    from django.core.paginator import Paginator

    nobody = Paged(selectors.BY_NAME, lambda: 0, clinic=10**6)  # a clinic with no patients yet
    assert nobody[0:0] == [] and list(Paginator(nobody, 25).get_page(1)) == []
    narrowed = selectors.search(actor, PatientFilter(q="zed0"))
    assert isinstance(narrowed, Paged) and narrowed.count() == 10
    zed0 = orm.filter(search_name__contains="zed0")
    assert [p.pk for p in narrowed[0:25]] == [p.pk for p in zed0] and len(zed0) == 10
    assert [p.pk for p in narrowed[3:5]] == [p.pk for p in zed0[3:5]]
    from django.urls import reverse

    page2 = client_as("fran").get(reverse("patient-list"), {"page": 2}).content.decode()
    assert all(p.family_name in page2 for p in orm[25:50])
    assert orm[0].family_name not in page2
    body = api_as("fran").get("/api/v1/patients?offset=25&limit=10").json()
    assert body["count"] == orm.count()
    assert [p["id"] for p in body["items"]] == [p.pk for p in orm[25:35]]


def test_the_audit_log_as_it_opens_is_what_the_orm_reads(world, client_as):
    """The audit log as it opens: its newest page and the staff to choose from, composed once,
    are the ORM's (the keyset page's first page, the usernames in order)."""
    from django.urls import reverse

    from dermis.web.clinic.audit import record
    from dermis.web.clinic.audit_log import views
    from dermis.web.clinic.models import AuditEvent, StaffMember

    for i in range(views.PAGE_SIZE + 5):
        record(factories.actor(world.pat), "view", world.nora, summary=f"look {i}")
    for clinic in (world.northgate, world.riverside):
        orm = AuditEvent.objects.filter(clinic=clinic)
        expected = views.keyset_page(orm, None, None)
        got = views._newest_first(views.NEWEST.rows(views.PAGE_SIZE + 1, clinic=clinic.pk), None)
        assert [e.pk for e in got["events"]] == [e.pk for e in expected["events"]]
        assert got["older"] == expected["older"] and got["newer"] is None
        names = StaffMember.objects.filter(clinic=clinic).order_by("user__username")
        assert views.USERNAMES.rows(clinic=clinic.pk) == list(
            names.values_list("user__username", flat=True)
        )
    page = client_as("alice").get(reverse("audit-log")).content.decode()
    shown = views._newest_first(
        views.NEWEST.rows(views.PAGE_SIZE + 1, clinic=world.northgate.pk), None
    )
    assert f"look {views.PAGE_SIZE + 4}" in page and shown["older"] is not None


def test_a_patients_recall_rows_and_contacts_are_what_the_orm_reads(world):
    """The recall patient page's reads, composed once: the patient's worklist rows by section
    and due day, and their latest contacts newest first (capped), as the related managers read."""
    from dermis.web.clinic.models import RecallContact
    from dermis.web.clinic.scheduling import recall_desk
    from dermis.web.clinic.scheduling.views import recall_patient

    for i in range(4):
        RecallContact.objects.create(
            clinic=world.northgate, patient=world.nora, outcome="no_answer",
            at=timezone.now() - timedelta(hours=i % 2), by_name="Fran",
        )  # fmt: skip
    RecallContact.objects.create(
        clinic=world.riverside, patient=world.rhys, outcome="no_answer", by_name="R"
    )
    for patient in (world.nora, world.rhys):
        got = recall_desk.contacts(patient, limit=3)
        orm = list(patient.recall_contacts.order_by("-at", "-pk")[:3])
        assert [c.pk for c in got] == [c.pk for c in orm] and got
        assert all(c.patient is patient for c in got)
        due = recall_patient._due(patient)
        assert [e.pk for e in due] == [
            e.pk for e in patient.recall_entries.order_by("section", "due")
        ]
    assert len(recall_desk.contacts(world.nora, limit=20)) == 4


def test_a_big_integer_columns_value_is_found_where_the_database_wraps_it(world):
    # On PostgreSQL Django gives a big integer column's value as psycopg's Int8.
    from dermis.web.api.models import ExternalId

    ExternalId.objects.create(
        clinic=world.northgate, kind=ExternalId.Kind.PATIENT, system="s", value="v",
        object_id=world.nora.pk,
    )  # fmt: skip
    by_object = PreparedRows(
        ExternalId,
        lambda clinic, object_id: ExternalId.objects.filter(clinic_id=clinic, object_id=object_id),
        clinic=int,
        object_id=int,
    )
    got = by_object.rows(None, clinic=world.northgate.pk, object_id=world.nora.pk)
    assert [r.value for r in got] == ["v"]
    assert by_object.rows(None, clinic=world.northgate.pk, object_id=world.nora.pk + 1) == []


def test_a_stand_in_left_among_the_parameters_is_refused():
    from dermis.web.clinic.stand_ins import INT_SENTINEL, all_found

    all_found([INT_SENTINEL, 3], [(0, "a", int)], {"a": INT_SENTINEL})  # placed: fine
    with pytest.raises(ValueError, match="cannot place"):
        all_found([INT_SENTINEL, INT_SENTINEL], [(0, "a", int)], {"a": INT_SENTINEL})
