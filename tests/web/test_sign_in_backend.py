"""The sign-in backend reads the user, their place on the staff, its clinic and the clinic's
recall recomputation in one query, for the web and the API; a session made by a backend that is
no longer configured signs the user out instead of failing."""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dermis.web.clinic.models import RecallRecompute
from dermis.web.clinic.scheduling import recompute


def _tables(captured) -> list[str]:
    """The table each SELECT reads first."""
    sql = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    return [q.split(" FROM ", 1)[1].split()[0].strip('"') for q in sql]


def test_a_page_reads_the_staff_member_with_the_user(world, client_as):
    client = client_as("fran")
    client.get("/waitlist/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/waitlist/").status_code == 200
    tables = _tables(captured)
    assert "auth_user" in tables
    assert "clinic_staffmember" not in tables and "clinic_clinic" not in tables


def test_the_api_reads_the_staff_member_with_the_token(world, api_as):
    api = api_as("fran")
    api.get("/api/v1/waitlist")
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/waitlist").status_code == 200
    tables = _tables(captured)
    assert "api_apitoken" in tables
    assert "clinic_staffmember" not in tables and "clinic_recallrecompute" not in tables


def test_the_notice_read_with_the_user_is_the_requests_own(world, client_as):
    """The clinic object a test (or a task) holds may have cached an old row: only the clinic
    read with the signed-in user is trusted without a query."""
    row = RecallRecompute.objects.create(clinic=world.northgate, total=4, version="v")
    RecallRecompute.objects.filter(pk=row.pk).update(finished_at=row.requested_at)
    assert recompute.pending(world.northgate) is None  # asked the database, not the cache
    RecallRecompute.objects.filter(pk=row.pk).update(finished_at=None)
    page = client_as("pat").get("/recall/").content.decode()
    assert "0 of 4 done" in page


def test_a_session_of_a_backend_no_longer_configured_signs_in_again(world, client_as):
    client = client_as("fran")
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.RemoteUserBackend"
    session.save()
    response = client.get("/waitlist/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
