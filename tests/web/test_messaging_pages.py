"""Pages: reminder delivery (failed with the reason, send again), failures on the dashboard, the
waitlist, the patient's signed-link pages; and web/API parity for their writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.models import (
    AppointmentReply,
    AuditEvent,
    Reminder,
    WaitlistEntry,
    WaitlistOffer,
)
from dermis.web.clinic.waitlist import links
from tests import factories
from tests.web.test_parity import Outcome, _api, _web


def _failed(world, **more) -> Reminder:
    fields = {"key": "failed:1", "patient": world.nora, "kind": "recall", "status": "failed"}
    fields.update(due_at=timezone.now(), attempts=1, last_error="SMTPRecipientsRefused 550")
    return Reminder.objects.create(**{**fields, **more})


def test_the_delivery_page_shows_failures_with_their_reason(world, client_as):
    _failed(world)
    Reminder.objects.create(
        key="retry:1",
        patient=world.nora,
        kind="recall",
        status="pending",
        due_at=timezone.now(),
        next_try_at=timezone.now() + timedelta(minutes=5),
        attempts=2,
        last_error="ConnectionRefusedError",
    )
    _failed(world, key="other", patient=world.rhys, last_error="riverside only")

    page = client_as("fran").get(reverse("reminder-delivery")).content.decode()

    assert "SMTPRecipientsRefused 550" in page and "ConnectionRefusedError" in page
    assert "Nora Quinn" in page
    assert "riverside only" not in page and "Rhys" not in page


def test_send_again_queues_the_reminder_now_and_is_audited(world, client_as):
    row = _failed(world)

    response = client_as("fran").post(reverse("reminder-send-again", args=[row.pk]))

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.next_try_at <= timezone.now()
    assert AuditEvent.objects.filter(summary=f"reminder {row.pk} queued to send again").exists()


def test_a_sent_reminder_is_not_sent_again(world, client_as):
    row = _failed(world, status="sent")

    client_as("alice").post(reverse("reminder-send-again", args=[row.pk]), follow=True)

    row.refresh_from_db()
    assert row.status == "sent"


@pytest.mark.parametrize(("persona", "shown"), [("fran", True), ("alice", True), ("pat", False)])
def test_failures_surface_on_the_dashboard(world, client_as, persona, shown):
    _failed(world)

    page = client_as(persona).get(reverse("dashboard")).content.decode()

    assert ("1 reminder failed in the last week" in page) is shown


def test_staff_put_a_patient_on_the_waitlist_and_see_it(world, client_as):
    client = client_as("fran")
    url = reverse("waitlist-add", args=[world.nora.pk])
    data = {"kind": "consultation", "minutes": "45", "weekdays": ["1", "3"], "earliest": "09:00"}

    assert client.post(url, data).status_code == 302

    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.minutes, entry.weekday_numbers) == (world.nora, 45, [1, 3])
    page = client.get(reverse("waitlist")).content.decode()
    assert "Nora Quinn" in page and "45 min" in page
    assert client.post(reverse("waitlist-remove", args=[entry.pk])).status_code == 302
    entry.refresh_from_db()
    assert entry.status == "removed"


def _offer(world) -> WaitlistOffer:
    factories.working_hours(world.pat)
    entry = WaitlistEntry.objects.create(
        clinic=world.northgate, patient=world.nora, kind="consultation"
    )
    start = factories.next_weekday_at(10, days_ahead=2)
    return WaitlistOffer.objects.create(
        entry=entry,
        slot="s",
        practitioner=world.pat,
        start=start,
        end=start + timedelta(hours=1),
        expires_at=timezone.now() + timedelta(hours=6),
    )


def test_the_offer_page_accepts_once(world, client):
    offer = _offer(world)
    url = reverse("waitlist-offer", args=[links.offer_token(offer)])

    page = client.get(url)
    assert page.status_code == 200
    assert "Accept this appointment" in page.content.decode()
    accepted = client.post(url)
    again = client.post(url)

    assert accepted.status_code == 200 and "It is yours" in accepted.content.decode()
    assert again.status_code == 409 and "already accepted" in again.content.decode()
    offer.refresh_from_db()
    assert offer.appointment.patient == world.nora


@pytest.mark.parametrize("token", ["nonsense", "eyJvIjoxfQ:1xYKss:forged"])
def test_a_bad_link_is_a_plain_404(world, client, token):
    for name in ("waitlist-offer", "appointment-reply"):
        response = client.get(reverse(name, args=[token]))
        assert response.status_code == 404
        assert "not valid or has expired" in response.content.decode()


def test_a_patient_confirms_or_asks_to_cancel_from_the_reminder_link(world, client):
    factories.working_hours(world.pat)
    appt = factories.appointment(world.pat, world.nora, factories.next_weekday_at(10, 4))
    url = reverse("appointment-reply", args=[links.confirm_token(appt)])

    assert "Confirm I am coming" in client.get(url).content.decode()
    assert "is confirmed" in client.post(url, {"answer": "confirmed"}).content.decode()
    assert client.post(url, {"answer": "cancel"}).status_code == 200

    answers = list(AppointmentReply.objects.order_by("at").values_list("answer", flat=True))
    assert answers == ["confirmed", "cancel"]
    assert client.post(url, {"answer": "maybe"}).status_code == 422


def test_a_cancel_request_shows_on_the_delivery_page(world, client, client_as):
    factories.working_hours(world.pat)
    appt = factories.appointment(world.pat, world.nora, factories.next_weekday_at(10, 4))
    client.post(
        reverse("appointment-reply", args=[links.confirm_token(appt)]), {"answer": "cancel"}
    )

    page = client_as("fran").get(reverse("reminder-delivery")).content.decode()

    assert "Patients asking to cancel" in page and "Nora Quinn" in page


# --- Parity: the same input through the page and the API ---------------------------------------

CASES = [
    ({"kind": "consultation", "minutes": 30}, Outcome(True)),
    ({"kind": "consultation", "minutes": 5}, None),
    ({"kind": "consultation", "earliest": "12:00", "latest": "11:00"}, None),
    ({"kind": "consultation", "before": "2000-01-01"}, None),
]


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_adding_to_the_waitlist_answers_the_same_on_the_web_and_the_api(
    world, client_as, api_as, body, expected
):
    web_data = {**body}
    with transaction.atomic():
        response = client_as("fran").post(reverse("waitlist-add", args=[world.nora.pk]), web_data)
        web = _web(response, "form")
        transaction.set_rollback(True)
    with transaction.atomic():
        api = _api(api_as("fran").post("/api/v1/waitlist", {"patient_id": world.nora.pk, **body}))
        transaction.set_rollback(True)

    assert web == api
    if expected is not None:
        assert web == expected
    else:
        assert not web.ok and web.field in ("minutes", "latest", "before")


@pytest.mark.parametrize("status", ["failed", "sent"])
def test_send_again_answers_the_same_on_the_web_and_the_api(world, client_as, api_as, status):
    row = _failed(world, status=status)
    with transaction.atomic():
        client_as("fran").post(reverse("reminder-send-again", args=[row.pk]))
        web = Reminder.objects.get(pk=row.pk).status
        transaction.set_rollback(True)
    with transaction.atomic():
        response = api_as("fran").post(f"/api/v1/reminders/{row.pk}/send-again")
        api = Reminder.objects.get(pk=row.pk).status
        transaction.set_rollback(True)

    assert web == api == ("pending" if status == "failed" else "sent")
    assert response.status_code == (200 if status == "failed" else 409)


def test_a_refusal_by_the_safety_gate_reads_plainly_to_the_patient(world, client):
    offer = _offer(world)
    factories.deferred_by_isotretinoin(world.pat, world.nora)
    WaitlistEntry.objects.filter(pk=offer.entry_id).update(
        kind="treatment", modality="microneedling"
    )

    response = client.post(reverse("waitlist-offer", args=[links.offer_token(offer)]))

    text = response.content.decode()
    assert response.status_code == 422
    assert "the clinic needs to check something" in text
    assert "isotretinoin" not in text.lower()
    offer.refresh_from_db()
    assert offer.status == "open"


def test_the_delivery_pages_lists_are_what_the_orm_reads(world):
    """The outbox's four lists, composed once per process: each is the ORM's rows in its order,
    capped, with the patient and appointment read along, for this clinic only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dermis.web.clinic.reminders import selectors

    now = timezone.now()
    for i, status in enumerate(["failed", "failed", "pending", "sending", "sent", "sent"]):
        Reminder.objects.create(
            key=f"k{i}", patient=world.nora, kind="recall", status=status, attempts=i % 3,
            due_at=now - timedelta(hours=i), next_try_at=now + timedelta(minutes=i),
            sent_at=now - timedelta(minutes=i) if status == "sent" else None,
        )  # fmt: skip
    _failed(world, key="theirs", patient=world.rhys)
    factories.working_hours(world.pat)
    a = factories.appointment(world.pat, world.nora, factories.next_weekday_at(10, 4))
    AppointmentReply.objects.create(appointment=a, answer=AppointmentReply.Answer.CANCEL_REQUESTED)
    got = selectors.delivery(world.northgate)
    cases = [
        (got.failed, selectors.FAILED, {}),
        (got.retrying, selectors.RETRYING, {}),
        (got.sent, selectors.SENT, {}),
        (got.cancel_requests, selectors.CANCEL_REQUESTS, {"now": now}),
    ]
    for rows, prepared, more in cases:
        orm = list(prepared.build(clinic=world.northgate.pk, **more)[: selectors.SHOWN])
        assert [r.pk for r in rows] == [r.pk for r in orm] and rows
    assert [r.key for r in got.failed] == ["k0", "k1"]  # newest due first, not Riverside's
    assert [r.key for r in got.retrying] == ["k2"]  # not k3: sending, but never tried yet
    assert [r.key for r in got.sent] == ["k4", "k5"]
    with CaptureQueriesContext(connection) as seen:
        names = [r.patient.full_name for r in got.failed] + [
            c.appointment.practitioner.display_name for c in got.cancel_requests
        ]
    assert names and not seen.captured_queries  # read along with the rows


def test_the_waitlist_page_lists_what_the_orm_reads(world, client_as):
    """The waitlist page's entries, composed once, are the ORM's (this clinic's waiting ones, in
    the model's order, each with its offers), and it shows each entry's offers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dermis.web.clinic.waitlist import selectors

    offered = _offer(world).entry
    WaitlistEntry.objects.create(clinic=world.northgate, patient=world.nora, kind="treatment")
    WaitlistEntry.objects.create(clinic=world.riverside, patient=world.rhys, kind="consultation")
    WaitlistEntry.objects.create(
        clinic=world.northgate, patient=world.nora, kind="follow_up", status="removed"
    )
    got = selectors.listed(world.northgate)
    orm = list(selectors.entries(world.northgate).prefetch_related("offers"))
    assert [e.pk for e in got] == [e.pk for e in orm] and len(got) == 2
    with CaptureQueriesContext(connection) as seen:
        offers = {e.pk: len(e.offers.all()) for e in got}
        names = [e.patient.full_name for e in got]
    assert offers[offered.pk] == 1 and names and not seen.captured_queries
    page = client_as("fran").get(reverse("waitlist")).content.decode()
    assert "Nora Quinn" in page and "Rhys" not in page


def test_the_dashboards_counts_are_what_the_orm_counts(world):
    """The dashboard's counts, composed once: the week's failed reminders (not older ones, not
    another clinic's) and the day's appointments when none is left to show."""
    from datetime import datetime, time

    from dermis.web.clinic.models import Appointment
    from dermis.web.clinic.reminders import selectors
    from dermis.web.clinic.scheduling.views import dashboard

    now = timezone.now()
    _failed(world, key="new")
    _failed(world, key="old", due_at=now - timedelta(days=8))
    _failed(world, key="theirs", patient=world.rhys)
    _failed(world, key="sent", status="sent")
    assert selectors.recent_failures(world.northgate) == 1
    assert selectors.recent_failures(world.riverside) == 1
    factories.working_hours(world.pat)
    at = factories.next_weekday_at(10, 3)
    factories.appointment(world.pat, world.nora, at)
    start = datetime.combine(timezone.localtime(at).date(), time.min, tzinfo=at.tzinfo)
    values = {"clinic": world.northgate.pk, "start": start, "end": start + timedelta(days=1)}
    orm = Appointment.objects.filter(
        clinic=world.northgate, start__gte=values["start"], start__lt=values["end"]
    ).count()
    assert dashboard.DAY_COUNT.count(**values) == orm == 1
    assert dashboard.DAY_COUNT.count(**{**values, "clinic": world.riverside.pk}) == 0
