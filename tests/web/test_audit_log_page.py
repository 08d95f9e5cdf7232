"""The audit log page: clinic admin only, own clinic only, newest first, filters, 50 a page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.db import DatabaseError, connection
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.audit_log.views import SYSTEM_NAMES
from dermis.web.clinic.models import AuditEvent
from tests.web.test_notice_period_migration import back_to_the_latest  # noqa: F401


def _event(clinic, user, action="view", patient=None, at=None, **extra) -> AuditEvent:
    return AuditEvent.objects.create(
        clinic=clinic,
        user=user,
        username=user.get_username(),
        action=action,
        patient_id_ref=patient.pk if patient else None,
        object_type="Patient",
        object_id=str(patient.pk) if patient else "",
        at=at or timezone.now(),
        **extra,
    )


def _shown(response) -> list[int]:
    return [e.pk for e in response.context["page"]["events"]]


@pytest.mark.parametrize(
    ("persona", "status"), [("pat", 403), ("fran", 403), ("oscar", 403), ("nobody", 403)]
)
def test_only_the_clinic_admin(world, client_as, persona, status):
    assert client_as(persona).get(reverse("audit-log")).status_code == status


def test_anonymous_is_sent_to_login(world, client_as):
    response = client_as("anonymous").get(reverse("audit-log"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_own_clinic_only_newest_first(world, client_as):
    now = timezone.now()
    older = _event(world.northgate, world.pat.user, patient=world.nora, at=now - timedelta(hours=2))
    newer = _event(world.northgate, world.fran.user, patient=world.nora, at=now)
    theirs = _event(world.riverside, world.oscar.user, patient=world.rhys, summary="riverside-x")
    response = client_as("alice").get(reverse("audit-log"))
    assert response.status_code == 200
    assert _shown(response) == [newer.pk, older.pk]
    html = response.content.decode()
    assert "riverside-x" not in html
    assert "oscar" not in html
    assert theirs.pk not in _shown(response)
    # Who, what, object, from where.
    assert "<td>pat</td>" in html and "<td>fran</td>" in html
    assert "Viewed" in html and f"Patient #{world.nora.pk}" in html


def test_shows_path_and_address(world, client_as):
    _event(world.northgate, world.pat.user, patient=world.nora, path="/p/1/", ip_address="10.1.2.3")
    html = client_as("alice").get(reverse("audit-log")).content.decode()
    assert "/p/1/" in html
    assert "10.1.2.3" in html


def test_filters(world, client_as):
    tz = timezone.get_current_timezone()
    day = datetime(2026, 3, 10, 12, 0, tzinfo=tz)
    a = _event(world.northgate, world.pat.user, "view", world.nora, at=day)
    b = _event(world.northgate, world.pat.user, "download", world.nora, at=day + timedelta(days=1))
    c = _event(world.northgate, world.fran.user, "view", None, at=day + timedelta(days=2))
    client = client_as("alice")

    def shown(**query):
        response = client.get(reverse("audit-log"), query)
        assert response.status_code == 200
        return set(_shown(response))

    assert shown() == {a.pk, b.pk, c.pk}
    assert shown(user="pat") == {a.pk, b.pk}
    assert shown(action="download") == {b.pk}
    assert shown(patient=world.nora.pk) == {a.pk, b.pk}
    assert shown(since="2026-03-11") == {b.pk, c.pk}
    assert shown(until="2026-03-11") == {a.pk, b.pk}
    assert shown(since="2026-03-11", until="2026-03-11") == {b.pk}
    assert shown(user="pat", action="view", patient=world.nora.pk, until="2026-03-10") == {a.pk}


def test_invalid_filter_names_the_field(world, client_as):
    _event(world.northgate, world.pat.user, patient=world.nora)
    response = client_as("alice").get(
        reverse("audit-log"), {"since": "2026-03-12", "until": "2026-03-10", "patient": "x"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "To: must be on or after the From date" in html
    assert "Patient id: Enter a whole number." in html
    assert _shown(response) == []


def test_user_choices_are_this_clinics_staff_from_the_staff_table(world, client_as):
    _event(world.northgate, world.pat.user)
    _event(world.riverside, world.oscar.user)
    response = client_as("alice").get(reverse("audit-log"))
    choices = [value for value, _ in response.context["form"].fields["user"].choices]
    # fran has no event yet and is offered all the same; oscar (another clinic) never is.
    assert choices == ["", "alice", "fran", "pat", *SYSTEM_NAMES]
    assert client_as("alice").get(reverse("audit-log"), {"user": "oscar"}).status_code == 200


def test_the_user_choices_do_not_read_the_events(world, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as("alice")
    client.get(reverse("audit-log"))
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("audit-log"))
    reads = [q["sql"] for q in captured if 'FROM "clinic_auditevent"' in q["sql"]]
    assert len(reads) == 1 and "DISTINCT" not in reads[0] and "COUNT" not in reads[0]


def test_paged_by_50_older_and_newer_by_position(world, client_as):
    base = timezone.now()
    events = [
        _event(world.northgate, world.pat.user, at=base - timedelta(minutes=i)) for i in range(51)
    ]
    # Two events in the same microsecond still page apart, by id.
    twin = _event(world.northgate, world.pat.user, at=events[49].at)
    client = client_as("alice")
    first = client.get(reverse("audit-log"), {"action": "view"})
    assert len(_shown(first)) == 50
    assert _shown(first)[0] == events[0].pk
    html = first.content.decode()
    assert "older_than=" in html and "newer_than=" not in html and "action=view" in html
    older = first.context["page"]["older"]
    second = client.get(reverse("audit-log"), {"action": "view", "older_than": older})
    shown = set(_shown(first)) | set(_shown(second))
    assert shown == {e.pk for e in [*events, twin]} and len(_shown(second)) == 2
    assert second.context["page"]["older"] is None
    newer = second.context["page"]["newer"]
    back = client.get(reverse("audit-log"), {"action": "view", "newer_than": newer})
    assert _shown(back) == _shown(first)


def test_one_users_page_as_it_opens_is_the_page_the_filters_read(world, client_as):
    """`?user=` alone is read with the staff menu (`NEWEST_BY_USER`); with a filter that narrows
    nothing more it goes through the filters: the same 50 events, newest first, ties by id."""
    from dermis.web.clinic.audit_log import views

    base = timezone.now()
    mine = [
        _event(world.northgate, world.pat.user, at=base - timedelta(minutes=i)) for i in range(52)
    ]
    _event(world.northgate, world.pat.user, at=mine[10].at)  # a twin in the same microsecond
    _event(world.northgate, world.fran.user, at=base)  # another user's
    _event(world.riverside, world.oscar.user, at=base)  # another clinic's
    client = client_as("alice")
    url = reverse("audit-log")
    asked = []
    real = views.NEWEST_BY_USER.rows
    views.NEWEST_BY_USER.rows = lambda *a, **k: asked.append(k) or real(*a, **k)
    try:
        opened = client.get(url, {"user": "pat"})
        as_form_sends = client.get(url, {"user": "pat", "action": "", "since": ""})
        through_filters = client.get(url, {"user": "pat", "since": "2000-01-01"})
    finally:
        views.NEWEST_BY_USER.rows = real
    assert len(asked) == 2 and asked[0]["username"] == "pat"  # not for the third
    assert len(_shown(opened)) == 50
    assert _shown(opened) == _shown(as_form_sends) == _shown(through_filters)
    assert opened.context["page"]["older"] == through_filters.context["page"]["older"]
    assert opened.context["page"]["newer"] is None


def test_a_mangled_position_shows_the_newest_page(world, client_as):
    event = _event(world.northgate, world.pat.user)
    response = client_as("alice").get(reverse("audit-log"), {"older_than": "yesterday_x"})
    assert response.status_code == 200 and _shown(response) == [event.pk]


def test_page_is_read_only(world, client_as):
    _event(world.northgate, world.pat.user, patient=world.nora)
    client = client_as("alice")
    html = client.get(reverse("audit-log")).content.decode()
    main = html.split("<main", 1)[1]  # the header's log-out form is the page's only POST
    assert 'method="post"' not in main
    assert client.post(reverse("audit-log")).status_code == 405
    assert AuditEvent.objects.count() == 1


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize(
    ("data", "index"),
    [({}, "audit_clinic_newest"), ({"user": "pat"}, "audit_clinic_user_newest")],
)
def test_on_postgresql_a_page_reads_the_clinics_newest_events_by_index(world, data, index):
    """A small clinic's page, or one user's, is read from the clinic's own index, not by walking
    every clinic's events newest first."""
    from dermis.web.clinic.audit_log.views import filtered, keyset_page

    events = filtered(AuditEvent.objects.filter(clinic=world.northgate), data)
    with connection.cursor() as cursor:
        # On a test database of a few rows a scan and a sort cost next to nothing, and which the
        # planner picks then turns on its statistics of the moment: what is asked is whether an
        # index gives the clinic's (or user's) events in this order, with neither.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        page = events.order_by("-at", "-id")[:51]
        sql, params = page.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
    assert keyset_page(events, None, None)["events"] == list(page[:50])


def _audit_indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, AuditEvent._meta.db_table)
    return {name: c["columns"] for name, c in found.items() if c["index"] and not c["primary_key"]}


def test_the_trail_keeps_only_indexes_a_read_uses(db):
    """Every read by time is a clinic's (the two indexes led by the clinic); an index of `at` or
    of the clinic alone would only slow each event's INSERT (migration 0028)."""
    columns = sorted(_audit_indexes().values())
    assert ["at"] not in columns and ["clinic_id"] not in columns
    assert ["clinic_id", "at", "id"] in columns
    assert ["clinic_id", "username", "at", "id"] in columns
    assert ["patient_id_ref"] in columns and ["user_id"] in columns  # a patient's; a user's


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest")
def test_migration_0028_drops_the_two_indexes_and_gives_them_back():
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("clinic", "0027_patient_tally")])
    before = sorted(_audit_indexes().values())
    assert ["at"] in before and ["clinic_id"] in before
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("clinic", "0028_audit_event_fewer_indexes")])
    after = sorted(_audit_indexes().values())
    assert [c for c in before if c not in (["at"], ["clinic_id"])] == after
    # The trail stays append-only on both databases (SQLite's triggers survive: neither this
    # migration nor one after it rebuilds the table), written as the latest code writes it.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    event = AuditEvent.objects.create(username="x", action="view")
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET summary = 'changed' WHERE id = %s", [event.pk])


def test_a_row_kept_by_the_worker_is_the_row_drawn_anew_in_its_own_time_zone(world, client_as):
    """An event's row is drawn once per worker and time zone (audit_log/views.py: event_rows)."""
    from dermis.web.clinic.audit_log import views

    at = timezone.make_aware(datetime(2026, 6, 1, 23, 30), timezone.get_fixed_timezone(0))
    events = [
        _event(world.northgate, world.pat.user, patient=world.nora, at=at, summary="<b>x</b>"),
        _event(world.northgate, world.fran.user, action="denied", at=at - timedelta(hours=1)),
    ]
    with timezone.override("Europe/London"):
        london = views.event_rows(events)
        assert views.event_rows(events) == london  # kept
    with timezone.override("Asia/Tokyo"):
        tokyo = views.event_rows(events)
    views.ROWS.clear()
    with timezone.override("Asia/Tokyo"):
        assert views.event_rows(events) == tokyo  # the kept rows are the rows drawn anew
    assert "2 Jun 2026 00:30:00" in london  # summer time, an hour ahead of UTC
    assert "2 Jun 2026 08:30:00" in tokyo
    assert "&lt;b&gt;x&lt;/b&gt;" in london and "<b>x" not in london
    assert london.count("<tr>") == 2 and 'class="badge stop"' in london

    first = client_as("alice").get(reverse("audit-log")).content.decode()
    kept = client_as("alice").get(reverse("audit-log")).content.decode()
    strip = lambda html: re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)  # noqa: E731
    assert strip(kept) == strip(first)
    assert first.count(f"#{world.nora.pk}") >= 1
