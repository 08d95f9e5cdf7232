"""The record page's body is kept by each worker by everything it was drawn from (the patient's
record version, which the database moves whenever a row the record shows changes; the patient,
the clinic, who looks, the zone, language and release: `patients.views._record_key`) until the
first moment it says something else with nothing written: the next midnight, an appointment to
come ending, or an aftercare panel's change (`documents.selectors.aftercare_changes_after`). Kept
only outside a transaction: transactional tests."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic import clock, core_inputs
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.documents.selectors import (
    RECENT_DAYS,
    aftercare_changes_after,
    aftercare_in_progress,
)
from dermis.web.clinic.models import Appointment, Patient, TreatmentSession
from dermis.web.clinic.patients import services as patient_services
from dermis.web.clinic.patients import views
from tests.web import test_documents_pdf

records = test_documents_pdf.records  # the fixture: Nora's plan and a session two days ago

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draws(monkeypatch):
    """The moments the record's body was drawn at."""
    drawn = []
    real = views._record_body

    def counted(request, patient, now):
        drawn.append(now)
        return real(request, patient, now)

    monkeypatch.setattr(views, "_record_body", counted)
    views.RECORDS.clear()
    yield drawn
    views.RECORDS.clear()


def _body(client, patient) -> str:
    page = client.get(reverse("patient-detail", args=[patient.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    return html[html.index('<main id="main"') : html.index("</main>")]


@pytest.mark.parametrize("persona", ["pat", "fran", "alice"])
def test_the_record_is_drawn_once_and_is_what_drawing_it_anew_gives(
    world, records, client_as, draws, persona
):
    client = client_as(persona)
    first = _body(client, world.nora)
    again = _body(client, world.nora)
    assert len(draws) == 1 and again == first
    views.RECORDS.clear()
    assert _body(client, world.nora) == first and len(draws) == 2
    clinical = persona != "fran"
    assert ("Aftercare in progress" in first) == clinical


def test_what_the_record_shows_changing_draws_it_again(world, records, client_as, draws):
    client = client_as("pat")
    _body(client, world.nora)
    patient_services.update_patient(Actor.of_staff(world.fran), world.nora, given_name="Norah")
    assert "Norah" in _body(client, world.nora) and len(draws) == 2
    start = timezone.now() + timedelta(days=3)
    Appointment.objects.create(
        clinic=world.northgate, patient=world.nora, practitioner=world.pat,
        start=start, end=start + timedelta(hours=1), location=world.northgate.locations.first(),
    )  # fmt: skip
    shown = _body(client, world.nora)
    assert len(draws) == 3 and f"{timezone.localtime(start):%H:%M}" in shown
    # Someone else looking: the same rows, another body (their role decides the panels).
    assert "Aftercare in progress" not in _body(client_as("fran"), world.nora)
    assert len(draws) == 4
    _body(client, world.nora)
    assert len(draws) == 4


def test_a_kept_record_is_drawn_again_when_the_time_alone_changes_it(
    world, records, client_as, draws
):
    """The record's moments come from the services' clock (`clock.frozen_at` here): the page
    drawn at a moment, kept until the first it says something else, then drawn again."""
    now = timezone.now()
    # A session leaving the fortnight in half an hour: its aftercare goes from the page then.
    TreatmentSession.objects.create(
        patient=world.nora, practitioner=world.pat, modality="microdermabrasion",
        device="diamond_tip", performed_at=now - timedelta(days=RECENT_DAYS, minutes=-30),
    )  # fmt: skip
    client = client_as("pat")
    with clock.frozen_at(now):
        before = _body(client, world.nora)
    nora = Patient.objects.select_related("clinic").get(pk=world.nora.pk)
    with core_inputs.read_once(nora), clock.frozen_at(now):
        changes = aftercare_changes_after(nora, now)
    assert changes is not None and changes <= now + timedelta(minutes=30, microseconds=1)
    midnight = datetime.combine(
        timezone.localdate(now) + timedelta(days=1),
        time.min,
        tzinfo=timezone.get_current_timezone(),
    )
    until = min(midnight, changes)
    assert until > now
    with clock.frozen_at(until - timedelta(microseconds=1)):
        assert _body(client, world.nora) == before and len(draws) == 1  # still right: kept
    with clock.frozen_at(until):
        at_until = _body(client, world.nora)
    assert len(draws) == 2 and draws[-1] == until  # no longer: drawn again
    views.RECORDS.clear()
    with clock.frozen_at(until):
        assert _body(client, world.nora) == at_until  # as a worker with no copy draws it then


def test_the_aftercare_panel_says_when_it_will_change(world, records):
    """A session leaving the fortnight, and a warning starting or ending, are moments the panel
    changes; nothing it shows changes before the first of them (on the same day)."""
    now = timezone.now()
    leaving = TreatmentSession.objects.create(
        patient=world.nora, practitioner=world.pat, modality="microdermabrasion",
        device="diamond_tip", performed_at=now - timedelta(days=RECENT_DAYS, hours=-1),
    )  # fmt: skip
    nora = Patient.objects.select_related("clinic").get(pk=world.nora.pk)

    def shown(moment: datetime) -> list[dict]:
        with core_inputs.read_once(nora), clock.frozen_at(moment):
            return aftercare_in_progress(nora)

    with core_inputs.read_once(nora):
        changes = aftercare_changes_after(nora, now)
    out = leaving.performed_at + timedelta(days=RECENT_DAYS, microseconds=1)
    assert changes is not None and now < changes <= out
    if timezone.localdate(changes) == timezone.localdate(now):
        assert shown(changes - timedelta(microseconds=1)) == shown(now)
    assert shown(changes) != shown(now)  # whichever change comes first, it shows
    assert leaving.pk in [i["session"].pk for i in shown(out - timedelta(microseconds=1))]
    assert leaving.pk not in [i["session"].pk for i in shown(out)]


def test_a_record_asked_inside_a_transaction_is_drawn_every_time(world, records, client_as, draws):
    """There its rows may be uncommitted, and a number rolled back is given again."""
    client = client_as("pat")
    with transaction.atomic():
        assert _body(client, world.nora) == _body(client, world.nora)
    assert len(draws) == 2 and not views.RECORDS


def test_a_kept_record_is_drawn_again_when_an_appointment_to_come_ends(
    world, records, client_as, draws
):
    """With nothing written, an appointment moves from the list to come to the past one at its
    end: the body is kept until then."""
    # Mid-morning, so that no midnight comes between.
    now = datetime.combine(timezone.localdate(), time(10), tzinfo=timezone.get_current_timezone())
    start = now + timedelta(hours=1)
    Appointment.objects.create(
        clinic=world.northgate, patient=world.nora, practitioner=world.pat,
        start=start, end=start + timedelta(minutes=45), location=world.northgate.locations.first(),
    )  # fmt: skip
    client = client_as("fran")  # front desk: no aftercare panel, whose own moments come sooner
    with clock.frozen_at(now):
        before = _body(client, world.nora)
    end = start + timedelta(minutes=45)
    with clock.frozen_at(end - timedelta(microseconds=1)):
        assert _body(client, world.nora) == before and len(draws) == 1
    with clock.frozen_at(end + timedelta(microseconds=1)):
        after = _body(client, world.nora)
    assert len(draws) == 2 and after != before
    views.RECORDS.clear()
    with clock.frozen_at(end + timedelta(microseconds=1)):
        assert _body(client, world.nora) == after


def test_a_full_list_to_come_is_kept_no_later_than_its_last_start():
    """One not shown ends after it starts, which is no earlier than the last shown starts."""
    now = timezone.now()

    def shown(n: int, long: bool):
        rows = []
        for i in range(n):
            start = now + timedelta(hours=i + 1)
            end = start + timedelta(hours=100 if long else 1)
            rows.append(Appointment(start=start, end=end))
        return rows

    few = shown(3, long=False)
    assert views._appointments_move(few) == [few[0].end]
    full = shown(views.UPCOMING_SHOWN, long=True)
    assert views._appointments_move(full) == [full[0].end, full[-1].start]
    assert views._appointments_move([]) == []
