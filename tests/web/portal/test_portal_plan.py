"""The patient's plan, booking the rest of the series within the rules and the gate, cancelling
within the notice period, and the calendar feed."""

from __future__ import annotations

import itertools

from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.models import Appointment, AuditEvent, CalendarFeed
from tests import factories
from tests.conftest import portal_client


def test_the_plan_in_plain_words(world):
    factories.accepted_plan(world.pat, world.nora)
    page = portal_client(world.nora).get(reverse("portal-plan")).content.decode()
    assert "Microneedling" in page and "Cheeks" in page
    assert "How many sessions" in page and "4" in page
    assert "How far apart" in page


def test_the_patient_books_the_remaining_series(world):
    factories.working_hours(world.pat)
    plan = factories.accepted_plan(world.pat, world.nora)
    client = portal_client(world.nora)
    page = client.get(reverse("portal-series"))
    assert page.status_code == 200
    assert b'name="proposal"' in page.content
    response = client.post(reverse("portal-series"), {"proposal": "0"})
    assert response.status_code == 302, response.content.decode()[:3000]
    booked = list(Appointment.objects.filter(plan=plan).order_by("start"))
    assert len(booked) == 4
    gaps = [(b.start - a.start).days for a, b in itertools.pairwise(booked)]
    assert all(28 <= g <= 42 for g in gaps), gaps
    assert (
        AuditEvent.objects.filter(
            patient_id_ref=world.nora.pk, summary__startswith="portal: series session"
        ).count()
        == 4
    )
    # nothing left to book
    assert "already booked or done" in client.get(reverse("portal-series")).content.decode()


def test_a_deferral_holds_the_first_session_back_with_reason_and_date(world):
    factories.working_hours(world.pat)
    consult = factories.deferred_by_isotretinoin(world.pat, world.nora, months_ago=2)
    factories.accept(world.pat, consult)
    client = portal_client(world.nora)
    page = client.get(reverse("portal-series")).content.decode()
    until = next(f["until"] for f in consult.screening["findings"] if f["rule"] == "isotretinoin")
    day = timezone.datetime.fromisoformat(until).date()
    assert f"Your first session can be from {day.day} {day:%B %Y}" in page
    assert "Roaccutane" in page and "dermis_default" not in page
    client.post(reverse("portal-series"), {"proposal": "0"})
    first = Appointment.objects.filter(kind="treatment").order_by("start").first()
    assert first is not None and timezone.localtime(first.start).date() >= day


def test_an_absolute_finding_gets_no_treatment_slot_online(world):
    factories.working_hours(world.pat)
    plan = factories.accepted_plan(world.pat, world.nora)
    # later screening: pregnant (absolute, no end date for microneedling)
    factories.consultation(world.pat, world.nora, {"pregnant": True})
    client = portal_client(world.nora)
    page = client.get(reverse("portal-series")).content.decode()
    assert "We can&#x27;t book this treatment online" in page or "We can't book" in page
    assert "pregnancy" in page
    client.post(reverse("portal-series"), {"proposal": "0"})
    assert not Appointment.objects.filter(plan=plan).exists()


def test_cancelling_respects_the_notice_period(world):
    factories.working_hours(world.pat)
    soon = factories.appointment(world.pat, world.nora, factories.soon_within_hours())
    later = factories.appointment(
        world.pat, world.nora, factories.next_weekday_at(10, days_ahead=5)
    )
    client = portal_client(world.nora)
    page = client.get(reverse("portal-plan")).content.decode()
    assert "please call" in page
    client.post(reverse("portal-cancel", args=[soon.pk]))
    soon.refresh_from_db()
    assert soon.status == "booked"
    client.post(reverse("portal-cancel", args=[later.pk]))
    later.refresh_from_db()
    assert later.status == "cancelled"
    # another patient's appointment: not found
    other = portal_client(world.rhys)
    assert other.post(reverse("portal-cancel", args=[soon.pk])).status_code == 404


def test_the_calendar_feed_is_the_patients_own(world):
    factories.working_hours(world.pat)
    factories.appointment(world.pat, world.nora, factories.next_weekday_at(10, days_ahead=5))
    client = portal_client(world.nora)
    page = client.post(reverse("portal-calendar")).content.decode()
    feed = CalendarFeed.objects.get()
    assert feed.patient == world.nora
    url = page.split('id="feed-url" readonly value="')[1].split('"')[0]
    ics = client.get(url.replace("http://testserver", ""))
    assert ics.status_code == 200 and b"BEGIN:VEVENT" in ics.content
