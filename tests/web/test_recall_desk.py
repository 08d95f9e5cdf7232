"""Working the recall list: the contact log (a service, audited, over the web and the API), snooze,
and proposals booked only when chosen."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.models import Appointment, AuditEvent, RecallContact
from dermis.web.clinic.scheduling import recall_desk
from tests import factories
from tests.web import test_recall_worklist

due = test_recall_worklist.due  # the fixture: Fiona, Bea and Cal due

URL = "/recall/"


def _log(client, patient, **data):
    return client.post(reverse("recall-contact", kwargs={"patient_id": patient.pk}), data)


def test_a_call_is_logged_audited_and_shown_as_the_rows_last_contact(world, due, client_as):
    fiona, _ = due["fiona"]
    client = client_as("fran")
    response = _log(client, fiona, outcome="left_message", note="voicemail, will ring back")
    assert response.status_code == 302
    row = RecallContact.objects.get(patient=fiona)
    assert (row.outcome, row.by, row.note) == ("left_message", world.fran.user, row.note)
    event = AuditEvent.objects.get(object_type="RecallContact", object_id=str(row.pk))
    assert (event.patient_id_ref, event.summary) == (fiona.pk, "recall contact (left_message)")
    assert "voicemail" not in event.summary  # the note is patient data: never in the trail
    listed = client.get(URL)
    fiona_row = next(r for r in listed.context["maintenance"] if r.patient == fiona)
    assert fiona_row.contact_outcome == "left_message"
    assert "Left a message" in listed.content.decode()
    page = client.get(reverse("recall-patient", kwargs={"patient_id": fiona.pk}))
    assert "voicemail, will ring back" in page.content.decode()


def test_a_snoozed_patient_leaves_the_list_until_the_day(world, due, client_as):
    fiona, _ = due["fiona"]
    client = client_as("fran")
    until = timezone.localdate() + timedelta(days=14)
    assert _log(client, fiona, outcome="snooze", snooze_until=until.isoformat()).status_code == 302
    names = [r.patient.given_name for r in client.get(URL).context["maintenance"]]
    assert names == ["Bea", "Cal"]
    api = client_as("pat")  # the same for everyone
    assert "Fiona" not in [r.patient.given_name for r in api.get(URL).context["maintenance"]]
    # A later call (the patient rang back) wakes the row before the day.
    _log(client, fiona, outcome="called")
    assert "Fiona" in [r.patient.given_name for r in client.get(URL).context["maintenance"]]


def test_bad_contacts_are_refused_naming_the_field_and_nothing_is_written(world, due, client_as):
    fiona, _ = due["fiona"]
    client = client_as("fran")
    today = timezone.localdate().isoformat()
    cases = [
        ({"outcome": "snooze"}, "snooze_until", "required for a snooze"),
        ({"outcome": "snooze", "snooze_until": today}, "snooze_until", "after today"),
        ({"outcome": "called", "snooze_until": "2099-01-01"}, "snooze_until", "only for a snooze"),
        ({"outcome": "shouted"}, "outcome", "valid choice"),
    ]
    for data, field, words in cases:
        response = _log(client, fiona, **data)
        assert response.status_code == 400, data
        errors = response.context["contact_form"].errors
        assert field in errors and words in errors[field][0], (data, errors)
    assert not RecallContact.objects.exists()
    actor = factories.actor(world.fran)
    with pytest.raises(recall_desk.ServiceError) as refused:
        recall_desk.log_contact(actor, fiona, outcome="called", note="x" * 301)
    assert refused.value.field == "note"
    assert not RecallContact.objects.exists()


def test_the_api_works_the_list_as_the_page_does(world, due, api_as):
    fiona, fiona_due = due["fiona"]
    api = api_as("fran")
    listed = api.get("/api/v1/recall").json()["maintenance"]
    assert [r["patient_id"] for r in listed] == [due["bea"].pk, fiona.pk, due["cal"].pk]
    assert {r["basis"] for r in listed} == {None} and {r["why"] for r in listed} == {None}
    assert listed[1]["email"] == "fiona@example.org" and listed[1]["modality"] == "microneedling"
    clinical = api_as("pat").get("/api/v1/recall").json()["maintenance"]
    assert clinical[1]["basis"] == "forecast" and "forecast" in clinical[1]["why"]

    made = api.post(f"/api/v1/recall/{fiona.pk}/contacts", {"outcome": "no_answer"})
    assert made.status_code == 201 and made.json()["by"] == "fran"
    log = api.get(f"/api/v1/recall/{fiona.pk}/contacts").json()
    assert [c["outcome"] for c in log] == ["no_answer"]
    refused = api.post(f"/api/v1/recall/{fiona.pk}/contacts", {"outcome": "snooze"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.snooze_until"

    offered = api.get(f"/api/v1/recall/{fiona.pk}/proposals")
    assert offered.status_code == 200, offered.content
    slots = offered.json()["slots"]
    assert slots and all(datetime.fromisoformat(s["start"]).date() >= fiona_due for s in slots)
    assert not Appointment.objects.filter(patient=fiona).exists()
    chosen = slots[1] if len(slots) > 1 else slots[0]
    body = {"start": chosen["start"], "room_id": chosen["room_id"]}
    body["equipment_id"] = chosen["equipment_id"]
    booked = api.post(f"/api/v1/recall/{fiona.pk}/bookings", body)
    assert booked.status_code == 201, booked.content
    made = Appointment.objects.get(pk=booked.json()["appointment_id"])
    assert made.start == datetime.fromisoformat(chosen["start"]) and made.kind == "maintenance"
    assert api.get(f"/api/v1/recall/{fiona.pk}/contacts").json()[0]["outcome"] == "booked"
    again = api.get(f"/api/v1/recall/{fiona.pk}/proposals")
    assert again.status_code == 409  # booked: not due any more
    assert fiona.pk not in [
        r["patient_id"] for r in api.get("/api/v1/recall").json()["maintenance"]
    ]
    assert api_as("oscar").get(f"/api/v1/recall/{fiona.pk}/proposals").status_code == 404
