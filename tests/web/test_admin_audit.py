"""Django admin for superusers, and the audit trail's append-only guarantee at every layer."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from dermis.web.clinic.models import AuditEvent, Clinic, Location, StaffMember
from tests.conftest import pass_second_factor


@pytest.fixture
def event(world):
    return AuditEvent.objects.create(
        clinic=world.northgate,
        user=world.pat.user,
        username="pat",
        action="view",
        object_type="Patient",
        object_id=str(world.nora.pk),
        patient_id_ref=world.nora.pk,
        summary="record",
    )


@pytest.fixture
def root(world, client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "x-pass-9876")
    client.force_login(user)
    pass_second_factor(client, user)
    return client


def test_model_refuses_save_of_an_existing_row(event):
    event.summary = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).summary == "record"


def test_model_refuses_delete(event):
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    assert AuditEvent.objects.get(pk=event.pk).summary == "record"


def test_database_refuses_a_raw_update(event):
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET summary = %s WHERE id = %s", ["rewritten", event.pk])
    assert AuditEvent.objects.get(pk=event.pk).summary == "record"


@pytest.mark.parametrize("model", [Clinic, Location, StaffMember, AuditEvent])
def test_superuser_sees_the_registered_models(root, event, model):
    opts = model._meta
    response = root.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200


def test_audit_events_are_read_only_in_the_admin(root, event):
    changelist = root.get(reverse("admin:clinic_auditevent_changelist"))
    assert b"action-select" not in changelist.content  # no bulk delete
    assert root.get(reverse("admin:clinic_auditevent_add")).status_code == 403
    assert root.get(reverse("admin:clinic_auditevent_delete", args=[event.pk])).status_code == 403
    change_url = reverse("admin:clinic_auditevent_change", args=[event.pk])
    page = root.get(change_url)
    assert page.status_code == 200  # a read-only view
    assert b'name="_save"' not in page.content
    assert root.post(change_url, {"summary": "rewritten"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).summary == "record"


def test_clinic_staff_do_not_get_the_admin(world, client_as):
    pat = world.pat.user
    pat.is_staff = True  # even with Django's staff flag, not a superuser
    pat.save()
    client = client_as("pat")
    assert client.get(reverse("admin:clinic_clinic_changelist")).status_code == 403
    assert client.get(reverse("admin:clinic_auditevent_changelist")).status_code == 403
    index = client.get(reverse("admin:index"))
    assert b"Audit events" not in index.content
    # Clinic admins without the flag are sent to the admin's log-in page.
    assert client_as("alice").get(reverse("admin:clinic_clinic_changelist")).status_code == 302


def test_superuser_can_set_up_a_clinic(root, world):
    response = root.post(
        reverse("admin:clinic_clinic_add"),
        {
            "name": "Harbour Skin",
            "slug": "harbour",
            "town": "Whitby",
            "postcode": "YO21 1AA",
            "screening_max_age_days": "90",
            "idle_timeout_minutes": "30",
            "created_at_0": "2026-01-01",
            "created_at_1": "09:00:00",
            "locations-TOTAL_FORMS": "0",
            "locations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:500]
    assert Clinic.objects.filter(slug="harbour", town="Whitby").exists()
