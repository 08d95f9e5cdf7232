"""The site's header is drawn once by each worker for each person and kept
(`templatetags/dermis_header.py`): it is what drawing it anew gives, for every kind of person, it
changes with who is signed in, and its log-out form carries each request's own CSRF token."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from dermis.web.clinic.models import StaffMember
from dermis.web.clinic.templatetags import dermis_header

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


@pytest.fixture(autouse=True)
def _fresh():
    dermis_header.HEADERS.clear()
    yield
    dermis_header.HEADERS.clear()


def _header(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    return html[html.index('<header class="site-header">') : html.index("</header>")]


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("alice", "dashboard"),
        ("pat", "dashboard"),
        ("fran", "diary"),
        ("anonymous", "directory"),
    ],
)
def test_the_kept_header_is_the_drawn_one_with_each_requests_token(world, client_as, persona, url):
    client = client_as(persona)
    first = _header(client, reverse(url))
    kept = len(dermis_header.HEADERS)
    again = _header(client, reverse(url))
    assert dermis_header.MARK not in again
    assert TOKEN.sub("", again) == TOKEN.sub("", first)
    dermis_header.HEADERS.clear()
    assert TOKEN.sub("", _header(client, reverse(url))) == TOKEN.sub("", first)
    signed_in = persona != "anonymous"
    assert kept == 1 and ("Log out" in first) == signed_in
    if signed_in:
        assert all(TOKEN.findall(h) for h in (first, again))


def test_the_header_is_each_persons_and_follows_their_name(world, client_as):
    pat, alice = client_as("pat"), client_as("alice")
    mine = _header(pat, reverse("dashboard"))
    theirs = _header(alice, reverse("dashboard"))
    assert world.pat.display_name in mine and world.alice.display_name in theirs
    assert "Audit log" in theirs and "Audit log" not in mine  # the admin's links
    assert len(dermis_header.HEADERS) == 2
    StaffMember.objects.filter(pk=world.pat.pk).update(display_name="Dr Pat Renamed")
    assert "Dr Pat Renamed" in _header(pat, reverse("dashboard"))


def test_a_log_out_from_the_kept_header_is_accepted(world, client_as):
    client = client_as("pat")
    client.handler.enforce_csrf_checks = True
    _header(client, reverse("dashboard"))  # drawn, then kept
    token = TOKEN.findall(_header(client, reverse("dashboard")))[0]
    assert token and dermis_header.MARK not in token
    assert client.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302  # signed out: to the log-in page


def test_another_session_of_the_same_person_gets_its_own_token(world, client_as):
    first, second = client_as("pat"), client_as("pat")  # two browsers, one person
    _header(first, reverse("dashboard"))  # drawn with the first one's request
    second.handler.enforce_csrf_checks = True
    token = TOKEN.findall(_header(second, reverse("dashboard")))[0]
    assert len(dermis_header.HEADERS) == 1  # the kept one
    assert second.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code == 302


def test_a_page_whose_own_staff_is_something_else_draws_its_header(world, rf):
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = AnonymousUser()
    html = render_to_string("clinic/base.html", {"staff": "not a member"}, request=request)
    assert '<header class="site-header">' in html and not dermis_header.HEADERS
