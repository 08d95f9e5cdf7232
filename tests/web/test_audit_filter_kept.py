"""The audit log's filter form is drawn once per worker for what it is drawn from
(`audit_log.views.filter_form`: the staff menu's names, what was asked, the language and address
prefix) and is what drawing it anew gives; the events below it are read and drawn on every view."""

from __future__ import annotations

import pytest
from django.urls import reverse, set_script_prefix

from dermis.web.clinic.audit_log import views
from tests import factories


@pytest.fixture
def draws(monkeypatch):
    """How many times the filter was drawn."""
    drawn = []
    real = views.render_to_string

    def counted(name, context=None, *args, **kwargs):
        drawn.append(name)
        return real(name, context, *args, **kwargs)

    monkeypatch.setattr(views, "render_to_string", counted)
    views.FILTERS.clear()
    yield drawn
    views.FILTERS.clear()


def _form(client, query: dict | None = None) -> str:
    response = client.get(reverse("audit-log"), query or {})
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('<form method="get"') : html.index("</form>", html.index("Filter"))]


QUERIES = [
    None,
    {"user": "pat"},
    {"user": "pat", "action": "view", "patient": "", "since": "", "until": ""},
    {"since": "2026-03-12", "until": "2026-03-10", "patient": "x"},  # errors
    {"user": "someone-else"},  # not a choice: an error
    {"action": "erase", "since": "2026-01-01"},
]


def test_a_kept_filter_is_the_filter_drawn_anew_for_every_query(world, client_as, draws):
    client = client_as("alice")
    for query in QUERIES:
        views.FILTERS.clear()
        fresh = _form(client, query)
        drawn = len(draws)
        assert _form(client, query) == fresh  # kept
        assert len(draws) == drawn
    assert len(draws) == len(QUERIES)
    # Each query is its own: the errors of one never show on another.
    shown = {q and tuple(sorted(q.items())): _form(client, q) for q in QUERIES}
    assert len(set(shown.values())) == len(QUERIES)
    assert "must be on or after the From date" in shown[tuple(sorted(QUERIES[3].items()))]
    assert "must be on or after" not in shown[None]


def test_a_new_member_of_staff_draws_the_filter_again(world, client_as, draws):
    client = client_as("alice")
    before = _form(client)
    assert _form(client) == before and len(draws) == 1
    factories.staff_member(world.alice, "quentin", "front_desk", "Quentin Q")
    after = _form(client)
    assert len(draws) == 2
    assert '<option value="quentin">quentin</option>' in after
    assert "quentin" not in before


def test_another_address_prefix_draws_the_filter_again(world, client_as, draws):
    client = client_as("alice")
    plain = _form(client)
    set_script_prefix("/clinic/")
    try:
        prefixed = client.get("/audit/").content.decode()
    finally:
        set_script_prefix("/")
    assert 'action="/clinic/audit/"' in prefixed
    assert 'action="/audit/"' in plain
    assert len(draws) == 2
