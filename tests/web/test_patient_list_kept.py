"""The patients list's content is kept by each worker by what it shows (`patients.views._list_key`:
every column of the patients on the page, how many matched, the page, what was asked and what the
form said of it, the zone, language and release). Whatever it shows changing, it is drawn again;
the frame around it is drawn for each request."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Patient
from dermis.web.clinic.patients import services, views
from tests.factories import patient as new_patient


@pytest.fixture
def draws(monkeypatch):
    """How many times the list's content was drawn."""
    drawn = []
    real = views.render_to_string

    def counted(name, context=None, *args, **kwargs):
        if name == "clinic/patients/_list_body.html":
            drawn.append(name)
        return real(name, context, *args, **kwargs)

    monkeypatch.setattr(views, "render_to_string", counted)
    views.LISTS.clear()
    yield drawn
    views.LISTS.clear()


def _content(client, query: dict | None = None, status: int = 200) -> str:
    page = client.get(reverse("patient-list"), query or {})
    assert page.status_code == status
    html = page.content.decode()
    return html[html.index('<main id="main"') : html.index("</main>")]


def test_the_list_is_drawn_once_for_everyone_and_is_what_drawing_it_anew_gives(
    world, client_as, draws
):
    desk, pat = client_as("fran"), client_as("pat")
    first = _content(desk)
    assert "Quinn" in first and len(draws) == 1
    assert _content(desk) == first and _content(pat) == first  # the same for every role
    assert len(draws) == 1
    views.LISTS.clear()
    assert _content(pat) == first and len(draws) == 2


def test_what_the_list_shows_changing_draws_it_again(world, client_as, draws):
    client = client_as("fran")
    before = _content(client)
    services.update_patient(Actor.of_staff(world.pat), world.nora, phone="07700 900777")
    changed = _content(client)
    assert len(draws) == 2 and "07700 900777" in changed and "07700 900777" not in before
    new_patient(world.pat, "Zed", "Zimmer")
    added = _content(client)
    assert len(draws) == 3 and "Zimmer" in added
    # What was asked, as typed, is shown: another search is another content.
    typed = _content(client, {"q": "Quinn"})
    shouted = _content(client, {"q": "QUINN"})
    assert len(draws) == 5 and "“QUINN”" in shouted and "“Quinn”" in typed
    assert _content(client, {"q": "Quinn"}) == typed and len(draws) == 5
    # A search the form refuses says why.
    refused = _content(client, {"q": "x" * 101}, status=200)
    assert "at most 100 characters" in refused and len(draws) == 6


def test_a_patient_beyond_the_page_changes_its_count_and_draws_it_again(world, client_as, draws):
    for i in range(views.PAGE_SIZE):
        new_patient(world.pat, "Ann", f"Aardvark {i:02d}")  # before everyone else: page one
    client = client_as("fran")
    n = Patient.objects.filter(clinic=world.northgate).count()
    before = _content(client)
    new_patient(world.pat, "Zed", "Zimmer")  # on the last page only
    after = _content(client)
    assert "Zimmer" not in after and len(draws) == 2
    assert f"All patients ({n})" in before and before.replace(f"({n})", f"({n + 1})") == after
