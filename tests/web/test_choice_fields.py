"""A form's select of rows (practitioners, locations …) reads them once, in one plain query: not
once per listing through a server-side cursor (Django's ModelChoiceField on PostgreSQL)."""

from __future__ import annotations

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dermis.web.clinic.choice_fields import RowChoiceField
from dermis.web.clinic.models import StaffMember


class _Form(forms.Form):
    who = RowChoiceField(queryset=StaffMember.objects.none(), empty_label="Anyone")

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["who"].queryset = StaffMember.objects.filter(clinic=clinic).order_by("pk")
        self.fields["who"].label_from_instance = lambda s: s.display_name


def test_the_choices_are_read_once_and_listed_in_order(world):
    form = _Form(clinic=world.northgate)
    with CaptureQueriesContext(connection) as seen:
        html = str(form["who"]) + str(form["who"])  # listed twice
        listed = list(form.fields["who"].choices)
    staff = list(StaffMember.objects.filter(clinic=world.northgate).order_by("pk"))
    assert [label for _, label in listed] == ["Anyone", *(s.display_name for s in staff)]
    assert len(form.fields["who"].choices) == len(staff) + 1
    assert all(f'value="{s.pk}"' in html for s in staff)
    sql = [q["sql"] for q in seen.captured_queries]
    assert len(sql) == 1 and sql[0].startswith("SELECT"), sql


def test_a_chosen_row_is_checked_against_the_clinics_rows(world):
    other = StaffMember.objects.exclude(clinic=world.northgate).first()
    assert not _Form({"who": other.pk}, clinic=world.northgate).is_valid()
    form = _Form({"who": world.pat.pk}, clinic=world.northgate)
    assert form.is_valid() and form.cleaned_data["who"] == world.pat


def test_a_form_validated_and_shown_again_reads_its_rows_once(world):
    form = _Form({"who": world.pat.pk}, clinic=world.northgate)
    with CaptureQueriesContext(connection) as seen:
        assert form.is_valid()
        html = str(form["who"])
    assert len(seen.captured_queries) == 1
    assert f'<option value="{world.pat.pk}" selected>' in html


def test_a_choice_that_is_not_a_row_id_gets_djangos_message(world):
    staff = list(StaffMember.objects.filter(clinic=world.northgate).order_by("pk"))
    for bad in ("abc", "12.5", str(max(s.pk for s in staff) + 1000), "[1]", "7\x00"):
        ours = _Form({"who": bad}, clinic=world.northgate)
        theirs_field = forms.ModelChoiceField(
            queryset=StaffMember.objects.filter(clinic=world.northgate)
        )
        assert not ours.is_valid()
        with pytest.raises(forms.ValidationError) as err:
            theirs_field.clean(bad)
        assert ours.errors["who"] == err.value.messages, bad
    assert _Form({"who": f" {world.pat.pk} "}, clinic=world.northgate).is_valid()
    assert _Form({"who": ""}, clinic=world.northgate).errors["who"] == ["This field is required."]


def test_rows_read_already_are_listed_and_checked_without_a_query(world):
    """`of_rows`: the booking preferences and the room form take the clinic's practitioners and
    locations read through queries composed once; they list and validate the same rows as the
    ORM's querysets, and ask the database nothing more."""
    from dermis.web.clinic.choice_fields import of_rows
    from dermis.web.clinic.models import Location, Room
    from dermis.web.clinic.scheduling import availability
    from dermis.web.clinic.scheduling.forms import PreferencesForm, RoomForm, practitioners

    clinic = world.northgate
    Location.objects.create(clinic=clinic, name="Annexe")
    availability.treating_staff(clinic), availability.clinic_locations(clinic)  # composed
    place = Location.objects.filter(clinic=clinic).first()
    with CaptureQueriesContext(connection) as seen:
        prefs = PreferencesForm(
            {"course": "0", "practitioner": str(world.pat.pk), "location": str(place.pk)},
            patient=world.nora,
            courses=["Course 1"],
        )
        valid = prefs.is_valid()
        shown = str(prefs["practitioner"]) + str(prefs["location"])
        room = RoomForm(clinic=clinic)
        shown += str(room["location"])
    assert valid, prefs.errors
    assert prefs.cleaned_data["practitioner"] == world.pat
    # the practitioners, then the locations for each form, through the queries composed once
    sql = [q["sql"] for q in seen.captured_queries]
    assert len(sql) == 3 and "clinic_staffmember" in sql[0], sql
    assert all('FROM "clinic_location"' in q and "LIMIT" not in q for q in sql[1:]), sql
    room = RoomForm({"room-name": "Room C", "room-location": str(place.pk)}, clinic=clinic)
    assert room.is_valid(), room.errors
    assert room.cleaned_data["location"] == place
    listed = [v for v, _ in prefs.fields["practitioner"].choices if v != ""]
    assert [int(str(v)) for v in listed] == [s.pk for s in practitioners(clinic)]
    places = [int(str(v)) for v, _ in room.fields["location"].choices if v != ""]
    assert places == [p.pk for p in Location.objects.filter(clinic=clinic)]
    assert f'value="{world.pat.pk}"' in shown and "Annexe" in shown
    other = Location.objects.exclude(clinic=clinic).first()
    wrong = RoomForm({"room-name": "X", "room-location": str(other.pk)}, clinic=clinic)
    assert not wrong.is_valid() and "location" in wrong.errors
    rows = [world.pat]
    field = RowChoiceField(queryset=of_rows(StaffMember.objects.all(), rows))
    with CaptureQueriesContext(connection) as seen:
        assert field.clean(str(world.pat.pk)) == world.pat
    assert not seen.captured_queries and not Room.objects.filter(name="Room C").exists()
