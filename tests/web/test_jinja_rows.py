"""The rows the busiest lists draw with Jinja2 (`dermis/web/jinja.py`, `{% jinja %}`) are what
their Django template loops wrote, character for character. The loops are kept as the reference
(`jinja_reference/`) and rendered with Django's engine beside the page's own rows, from the page's
own context, for a clinic whose names need escaping, whose patients lack a phone or email, whose
day has open, finished and overdue appointments, and whose audit log has refusals."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from django.template import engines
from django.test import override_settings
from django.urls import reverse, set_script_prefix
from django.utils import timezone
from django.utils.safestring import mark_safe

from dermis.web import jinja as dermis_jinja
from dermis.web import url_shapes
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import Appointment, AuditEvent, Room
from dermis.web.clinic.patients import services as patients
from tests import factories

REFERENCE = Path(__file__).parent / "jinja_reference"


def _context(response) -> dict:
    flat: dict = {}
    for layer in response.context:
        flat.update(layer.flatten())
    return flat


def _both(response, reference: str, rows: str) -> tuple[str, str]:
    context = _context(response)
    django = engines["django"].from_string((REFERENCE / reference).read_text()).render(context)
    jinja = engines["jinja2"].env.get_template(rows).render(context)
    return django, jinja


@pytest.fixture
def varied(world):
    """Names that need escaping, a patient with neither phone nor email, a day of appointments
    in every state the dashboard words differently, and audit events of several kinds."""
    alice, pat = Actor.of_staff(world.alice), world.pat
    patients.update_patient(alice, world.nora, family_name="O'Brien & <Sons>", given_name='Zoë "Z"')
    bare = factories.patient(world.pat, given="Ünal", family="Smith", phone="", email="")
    midnight = dt.datetime.combine(
        timezone.localdate(), dt.time.min, tzinfo=timezone.get_current_timezone()
    )
    for minutes, status, who in [
        (0, Appointment.Status.BOOKED, world.nora),  # over, still open: "Needs an outcome"
        (10, Appointment.Status.COMPLETED, bare),
        (15, Appointment.Status.CANCELLED, world.nora),
        (23 * 60 + 50, Appointment.Status.CONFIRMED, bare),  # late tonight: still to come
    ]:
        start = midnight + dt.timedelta(minutes=minutes)
        Appointment.objects.create(
            clinic=world.northgate, patient=who, practitioner=pat, start=start,
            # The open one is over a second after midnight, whenever the test runs.
            end=start + (dt.timedelta(seconds=1) if minutes == 0 else dt.timedelta(minutes=5)),
            status=status,
            kind=Appointment.Kind.FOLLOW_UP if minutes % 2 else Appointment.Kind.TREATMENT,
        )  # fmt: skip
    AuditEvent.objects.create(
        clinic=world.northgate, user=world.user("fran"), username="fran", action="denied",
        object_type="", object_id="", summary='refused <a href="x">', path="/audit/",
        ip_address="203.0.113.9",
    )  # fmt: skip
    AuditEvent.objects.create(
        clinic=world.northgate, user=None, username="", action="view", object_type="Patient",
        object_id=str(bare.pk), patient_id_ref=bare.pk, summary="", path="",
    )  # fmt: skip
    return bare


def test_the_dashboard_rows_are_what_its_loop_wrote(world, varied, client_as):
    now = timezone.now()
    page = client_as("fran").get(reverse("dashboard"))
    assert page.status_code == 200
    today = page.context["today"]  # as drawn (and kept: scheduling/versions.py)
    appointments = list(
        Appointment.objects.filter(pk__in=today["shown"])
        .select_related("patient", "practitioner")
        .order_by("start", "pk")
    )
    reference = (REFERENCE / "dashboard.html").read_text()
    django = (
        engines["django"].from_string(reference).render({"appointments": appointments, "now": now})
    )
    jinja = today["rows"]
    assert jinja == django
    assert jinja in page.content.decode()
    for seen in ("Needs an outcome", "Completed", "Cancelled", "Confirmed", "Follow-up"):
        assert seen in jinja, seen
    assert "Zoë &quot;Z&quot; O&#x27;Brien &amp; &lt;Sons&gt;" in jinja


def test_the_audit_rows_are_what_its_loop_wrote(world, varied, client_as):
    client_as("alice").get(reverse("patient-detail", args=[varied.pk]))  # a real event or two
    page = client_as("alice").get(reverse("audit-log"))
    assert page.status_code == 200
    context = _context(page)
    django = engines["django"].from_string((REFERENCE / "audit.html").read_text()).render(context)
    jinja = str(context["rows"])  # each row drawn once per worker (audit_log/views.py)
    assert jinja == django
    assert jinja in page.content.decode()
    assert 'class="badge stop"' in jinja and "203.0.113.9" in jinja
    assert "refused &lt;a href=&quot;x&quot;&gt;" in jinja
    assert f'<a href="/patients/{varied.pk}/">{varied.pk}</a>' in jinja


def test_the_patient_rows_are_what_its_loop_wrote(world, varied, client_as):
    drawn = {}
    for query in ("", "?q=Smith", "?q=Brien"):
        page = client_as("pat").get(reverse("patient-list") + query)
        assert page.status_code == 200
        django, jinja = _both(page, "patients.html", "clinic/patients/_rows.html")
        assert jinja == django, query
        assert jinja in page.content.decode()
        drawn[query] = jinja
    assert "<td>—</td><td>—</td>" in drawn["?q=Smith"]  # neither phone nor email
    assert "O&#x27;Brien &amp; &lt;Sons&gt;, Zoë &quot;Z&quot;" in drawn["?q=Brien"]


# --- The environment on its own -----------------------------------------------------------------

VALUES = [
    "plain", "O'Brien & <Sons>", '"quoted"', "", 0, 42, -7, True, None,
    mark_safe("<b>safe</b>"), "Zoë",
]  # fmt: skip
FORMATS = ["H:i", "c", "j M Y", "j M Y H:i:s", "D j M Y, H:i", "l j F", "Y-m-d", "DATE_FORMAT"]
MOMENTS = [
    dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC),  # London's clocks go forward at 01:00
    dt.datetime(2026, 10, 25, 1, 30, 15, 250, tzinfo=dt.UTC),  # and back
    dt.datetime(2026, 12, 2, 23, 59, 59, tzinfo=ZoneInfo("Pacific/Auckland")),
    dt.date(1985, 3, 14),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_value_is_escaped_as_django_escapes_it(value):
    context = {"v": value}
    django = engines["django"].from_string("{{ v }}").render(context)
    assert engines["jinja2"].from_string("{{ v }}").render(context) == django


def _outcome(template, context):
    """What rendering gives: the text, or the kind of error (a date asked for its hour)."""
    try:
        return template.render(context)
    except (TypeError, ValueError) as error:
        return type(error)


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_dates_and_times_are_formatted_as_django_formats_them(fmt, zone):
    with override_settings(TIME_ZONE=zone), timezone.override(ZoneInfo(zone)):
        for moment in [*MOMENTS, None, ""]:
            context = {"v": moment}
            for name in ("date", "time"):
                if (
                    name == "time"
                    and isinstance(moment, dt.date)
                    and not isinstance(moment, dt.datetime)
                ):
                    continue
                django = engines["django"].from_string(f'{{{{ v|{name}:"{fmt}" }}}}')
                jinja = engines["jinja2"].from_string(f'{{{{ v|{name}("{fmt}") }}}}')
                expected = _outcome(django, context)
                assert _outcome(jinja, context) == expected, (name, fmt, moment)
                # As `{% jinja %}` renders it: the time zone looked up once for the whole list.
                once = context | dermis_jinja.per_render()
                assert _outcome(jinja, once) == expected, (name, fmt, moment)


def test_a_date_written_bare_or_a_name_missing_is_refused_not_guessed():
    jinja = engines["jinja2"]
    with pytest.raises(TypeError, match="with a filter"):
        jinja.from_string("{{ v }}").render({"v": dt.date(2026, 1, 1)})
    with pytest.raises(jinja2.UndefinedError):
        jinja.from_string("{{ v.missing }}").render({"v": object()})


def test_urls_and_filters_are_djangos():
    jinja = engines["jinja2"]
    assert jinja.from_string("{{ url('patient-detail', 12) }}").render({}) == "/patients/12/"
    assert jinja.from_string("{{ url('dashboard') }}").render({}) == reverse("dashboard")
    context = {"q": "a b&c/é", "n": 2}
    assert jinja.from_string("{{ q|urlencode }} {{ n|pluralize }}").render(context) == (
        engines["django"].from_string("{{ q|urlencode }} {{ n|pluralize }}").render(context)
    )


def test_the_series_proposals_are_what_their_loop_wrote(world, client_as):
    from tests.web.test_series_booking import _prefs, _url, accepted_plan, weekday_hours

    weekday_hours(world.pat)
    location = world.northgate.locations.get()
    Room.objects.create(clinic=world.northgate, location=location, name="Room <1> & 'two'")
    plan = accepted_plan(world.nora, world.pat)  # no device registered: "—" in that column
    page = client_as("pat").get(_url(plan), _prefs(world))
    assert page.status_code == 200
    assert page.context["result"].alternatives
    django, jinja = _both(page, "series_proposals.html", "clinic/scheduling/_proposals.html")
    assert jinja == django
    # The page's content is kept with a mark where the token goes, and each request puts its
    # own there: masked anew, it is not the one drawn here.
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", jinja) in token.sub("", page.content.decode())
    assert "Room &lt;1&gt; &amp; &#x27;two&#x27;" in jinja and "<td>—</td>" in jinja
    assert jinja.count('name="csrfmiddlewaretoken"') == 1 + len(page.context["result"].alternatives)
    assert "Alternative 1" in jinja and "Proposed series" in jinja


def test_the_availability_cards_are_what_their_loop_wrote(world, client_as):
    """Each practitioner's hours and time off ahead, for the admin (who may remove anyone's time
    off) and for a practitioner (only their own): hours at a location and at any, a reason that
    needs escaping, and a practitioner with neither hours nor time off."""
    from dermis.web.clinic.models import StaffMember, TimeOff, WorkingHours

    StaffMember.objects.filter(pk=world.pat.pk).update(display_name="Pat O'Neil <Dr>")
    place = world.northgate.locations.get()
    WorkingHours.objects.create(staff=world.pat, weekday=0, start="09:00", end="12:30")
    WorkingHours.objects.create(
        staff=world.pat, weekday=2, start="13:15", end="18:00", location=place
    )
    start = timezone.now() + dt.timedelta(days=3)
    TimeOff.objects.create(
        staff=world.pat, start=start, end=start + dt.timedelta(days=2), reason='Course "A" & <B>'
    )
    TimeOff.objects.create(
        staff=world.pat, start=start + dt.timedelta(days=9), end=start + dt.timedelta(days=10)
    )
    reference = engines["django"].from_string((REFERENCE / "availability_person.html").read_text())
    jinja = engines["jinja2"].env.get_template("clinic/scheduling/_person_times.html")
    for who in ("alice", "pat"):
        page = client_as(who).get(reverse("availability"))
        assert page.status_code == 200
        context, html = _context(page), page.content.decode()
        cards = []
        for person in context["people"]:
            here = {**context, "p": person}
            drawn = jinja.render(here)
            assert drawn + "\n" == reference.render(here), person["staff"]
            assert drawn in html
            cards.append(drawn)
        assert len(cards) >= 2 and any("No working hours yet" in card for card in cards)
        pats = next(card for card in cards if "Pat O&#x27;Neil &lt;Dr&gt;" in card)
        assert "09:00–12:30" in pats and place.name in pats and ">any<" in pats
        assert "Course &quot;A&quot; &amp; &lt;B&gt;" in pats
        assert pats.count('name="csrfmiddlewaretoken"') == 2  # each time off can be removed


def test_a_lists_dates_and_links_ask_the_request_once_not_per_row(monkeypatch):
    """`{% jinja %}` looks up the time zone, URLconf and script prefix once for a list's rows."""
    moments = [dt.datetime(2026, 12, 3, 9, m, tzinfo=dt.UTC) for m in range(5)]
    rows = engines["jinja2"].from_string(
        "{% for m in ms %}{{ m|date('j M H:i') }} {{ url('patient-detail', loop.index) }};"
        "{% endfor %}"
    )
    with timezone.override(ZoneInfo("America/New_York")):
        expected = rows.render({"ms": moments})
        context = {"ms": moments} | dermis_jinja.per_render()
        asked = []
        for name in ("get_current_timezone", "get_urlconf", "get_script_prefix"):
            module = timezone if name == "get_current_timezone" else url_shapes
            real = getattr(module, name)
            monkeypatch.setattr(module, name, lambda real=real, n=name: asked.append(n) or real())
        drawn = rows.render(context)
    assert drawn == expected
    assert drawn.startswith("3 Dec 04:00 /patients/1/;3 Dec 04:01 /patients/2/;")
    assert asked == []


def test_a_lists_links_are_made_under_the_script_prefix_in_force():
    rows = engines["jinja2"].from_string("{{ url('patient-detail', 7) }}")
    set_script_prefix("/clinic/")
    try:
        assert rows.render(dermis_jinja.per_render()) == "/clinic/patients/7/"
    finally:
        set_script_prefix("/")
