"""Forms of the scheduling pages: weekly hours, time off, rooms, equipment, booking preferences,
a new time for one appointment. Every error names its field."""

from __future__ import annotations

import contextlib
from datetime import datetime, time

from django import forms
from django.utils import timezone

from dermis.core.slots_calendar import WEEKDAYS
from dermis.web.clinic.choice_fields import RowChoiceField, of_rows
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.models import (
    Clinic,
    Equipment,
    Location,
    Patient,
    Room,
    StaffMember,
    WorkingHours,
)
from dermis.web.clinic.patients.forms import DateInput, DateTimeInput, ErrorSummaryMixin
from dermis.web.clinic.scheduling import availability
from dermis.web.clinic.scheduling.series import Preferences
from dermis.web.clinic.together import read_together


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


def _locations(clinic: Clinic):
    """The clinic's locations for a menu, read through the query composed once per process."""
    return of_rows(clinic.locations.all(), availability.clinic_locations(clinic))


def practitioners(clinic: Clinic):
    """Staff who treat: practitioners and admins (an admin may also practise)."""
    return StaffMember.objects.filter(clinic=clinic, role__in=availability.TREATING_ROLES).order_by(
        "display_name"
    )


class HoursForm(ErrorSummaryMixin, forms.Form):
    """One practitioner's week: up to two windows a day (a break between them), blank when off."""

    WINDOWS = (("", "from", "until"), ("2", "then from", "until"))

    def __init__(self, *args, staff: StaffMember, locations: list | None = None, **kwargs):
        """`locations`: the clinic's locations, when the caller has them (a page with a form
        per practitioner reads them once); `staff.working_hours` may be prefetched."""
        kwargs.setdefault("prefix", f"hours-{staff.pk}")
        super().__init__(*args, **kwargs)
        self.staff = staff
        if locations is None:
            locations = list(staff.clinic.locations.all())
        self._locations = {loc.pk: loc for loc in locations}
        choices = [("", "any location")] + [(loc.pk, loc.name) for loc in locations]
        rows: dict[int, list[WorkingHours]] = {}
        for r in sorted(staff.working_hours.all(), key=lambda r: (r.weekday, r.start)):
            rows.setdefault(r.weekday, []).append(r)
        for day, name in enumerate(WEEKDAYS):
            windows = rows.get(day, [])
            for i, (n, start_label, end_label) in enumerate(self.WINDOWS):
                row = windows[i] if i < len(windows) else None
                self.fields[f"start{n}_{day}"] = forms.TimeField(
                    label=f"{name} {start_label}", required=False, widget=TimeInput(),
                    initial=row.start if row else None,
                )  # fmt: skip
                self.fields[f"end{n}_{day}"] = forms.TimeField(
                    label=f"{name} {end_label}", required=False, widget=TimeInput(),
                    initial=row.end if row else None,
                )  # fmt: skip
            self.fields[f"location_{day}"] = forms.TypedChoiceField(
                choices=choices, coerce=self._location, empty_value=None, required=False,
                label=f"{name} at", initial=windows[0].location_id if windows else None,
            )  # fmt: skip

    def _location(self, value):
        return self._locations[int(value)]

    def days(self):
        for day, name in enumerate(WEEKDAYS):
            yield {
                "name": name,
                "fields": [self[f"{part}{n}_{day}"] for n, *_ in self.WINDOWS
                           for part in ("start", "end")],
                "location": self[f"location_{day}"],
            }  # fmt: skip

    def clean(self):
        data = super().clean()
        for day, name in enumerate(WEEKDAYS):
            previous_end = None
            for n, *_ in self.WINDOWS:
                start, end = data.get(f"start{n}_{day}"), data.get(f"end{n}_{day}")
                if (start is None) != (end is None):
                    missing = f"end{n}_{day}" if end is None else f"start{n}_{day}"
                    if missing not in self.errors:
                        self.add_error(missing, f"{name}: give both a start and an end, or neither")
                elif start is not None and end <= start:
                    self.add_error(f"end{n}_{day}", f"{name}: the end must be after the start")
                elif start is not None and n and previous_end is None:
                    self.add_error(f"start{n}_{day}", f"{name}: fill in the first hours first")
                elif start is not None and previous_end is not None and start < previous_end:
                    self.add_error(
                        f"start{n}_{day}",
                        f"{name}: the second hours must start after the first end",
                    )
                previous_end = end if start is not None else None
        return data

    def rows(self) -> list[tuple]:
        """The week as (weekday, start, end, location) rows for the set-up service."""
        data = self.cleaned_data
        return [
            (day, data[f"start{n}_{day}"], data[f"end{n}_{day}"], data[f"location_{day}"])
            for day in range(7)
            for n, *_ in self.WINDOWS
            if data.get(f"start{n}_{day}") is not None
        ]


class TimeOffForm(ErrorSummaryMixin, forms.Form):
    start = forms.DateTimeField(label="Off from", widget=DateTimeInput())
    end = forms.DateTimeField(label="Back at", widget=DateTimeInput())
    reason = forms.CharField(
        label="Reason (optional, shown to colleagues)", max_length=100, required=False
    )

    def __init__(self, *args, staff: StaffMember, **kwargs):
        kwargs.setdefault("prefix", f"off-{staff.pk}")
        super().__init__(*args, **kwargs)
        self.staff = staff

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", "must be after the start")
        return data


class RoomForm(ErrorSummaryMixin, forms.ModelForm):
    prefix = "room"

    class Meta:
        model = Room
        fields = ["name", "location"]
        labels = {"name": "Room name", "location": "Location"}
        field_classes = {"location": RowChoiceField}

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.clinic = clinic
        self.fields["location"].queryset = _locations(clinic)
        self.fields["location"].label_from_instance = lambda loc: loc.name


class EquipmentForm(ErrorSummaryMixin, forms.ModelForm):
    prefix = "equipment"
    device = forms.ChoiceField(label="Kind of device")

    class Meta:
        model = Equipment
        fields = ["name", "device", "serial_number"]
        labels = {"name": "Name (e.g. Pen A)", "serial_number": "Serial number (optional)"}

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.clinic = clinic
        kb = knowledge()
        self.fields["device"].choices = [
            (key, d.name) for key, d in kb.devices.items() if d.setting == "professional"
        ]


WEEKDAY_CHOICES = [(str(i), name) for i, name in enumerate(WEEKDAYS)]


class PreferencesForm(ErrorSummaryMixin, forms.Form):
    """Who, where and when the patient prefers: what the slot finder is asked to honour."""

    course = forms.TypedChoiceField(label="Course", coerce=int, initial=0)
    practitioner = RowChoiceField(queryset=StaffMember.objects.none(), label="Practitioner")
    location = RowChoiceField(queryset=Location.objects.none(), label="Location")
    weekdays = forms.MultipleChoiceField(
        label="Preferred days",
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    time_from = forms.TimeField(label="Preferred from", required=False, widget=TimeInput())
    time_to = forms.TimeField(label="Preferred until", required=False, widget=TimeInput())
    earliest = forms.DateField(label="Not before", required=False, widget=DateInput())
    require = forms.BooleanField(label="Only on the preferred days and times", required=False)
    precare_done = forms.BooleanField(
        label="Pre-care is done (practitioner): the first session may come sooner than its "
        "pre-care lead time",
        required=False,
    )

    def __init__(self, *args, patient: Patient, courses: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        clinic = patient.clinic
        self.fields["course"].choices = [(i, name) for i, name in enumerate(courses)]
        with read_together(*availability.menu_reads(clinic)):
            self._menus(clinic)

    def _menus(self, clinic: Clinic) -> None:
        self.fields["practitioner"].queryset = of_rows(
            practitioners(clinic), availability.treating_staff(clinic)
        )
        self.fields["practitioner"].label_from_instance = lambda s: s.display_name
        self.fields["location"].queryset = _locations(clinic)
        self.fields["location"].label_from_instance = lambda loc: loc.name
        self.fields["location"].empty_label = None
        # From the menu's own rows, which validating and showing the form read anyway.
        self.fields["location"].required = bool(self.fields["location"].queryset)

    @staticmethod
    def initial_for(patient: Patient, staff: StaffMember) -> dict:
        """Initial values from the patient's saved preferences (else: me, if I treat)."""
        saved = patient.booking_preferences or {}
        initial: dict = {"course": 0, "location": patient.clinic.locations.order_by("pk").first()}
        who = practitioners(patient.clinic).filter(pk=saved.get("practitioner")).first()
        if who is None and staff.is_clinical:
            who = staff
        if who is None:
            hours = WorkingHours.objects.filter(staff__clinic=patient.clinic)
            who = practitioners(patient.clinic).filter(pk__in=hours.values("staff")).first()
        initial["practitioner"] = who
        initial["weekdays"] = [str(d) for d in saved.get("weekdays", []) if d in range(7)]
        times = saved.get("times") or []
        with contextlib.suppress(IndexError, TypeError, ValueError):
            initial["time_from"], initial["time_to"] = (time.fromisoformat(t) for t in times[0])
        return initial

    def clean(self):
        data = super().clean()
        start, end = data.get("time_from"), data.get("time_to")
        if (start is None) != (end is None):
            name = "time_to" if end is None else "time_from"
            if name not in self.errors:
                self.add_error(name, "give both ends of the preferred time, or neither")
        elif start is not None and end <= start:
            self.add_error("time_to", "must be after the start of the preferred time")
        earliest = data.get("earliest")
        if earliest and earliest < timezone.localdate():
            self.add_error("earliest", "cannot be in the past")
        return data

    def preferences(self) -> Preferences:
        d = self.cleaned_data
        times = ((d["time_from"], d["time_to"]),) if d.get("time_from") else ()
        return Preferences(
            practitioner=d["practitioner"],
            location=d["location"],
            weekdays=frozenset(int(w) for w in d.get("weekdays", [])),
            times=times,
            earliest=d.get("earliest"),
            require=bool(d.get("require")),
            course=d.get("course") or 0,
            precare_done=bool(d.get("precare_done")),
        )


class RescheduleForm(ErrorSummaryMixin, forms.Form):
    day = forms.DateField(label="New date", widget=DateInput())
    time = forms.TimeField(label="New time", widget=TimeInput())

    def clean(self):
        data = super().clean()
        if data.get("day") and data.get("time") is not None:
            start = datetime.combine(data["day"], data["time"], tzinfo=availability.clinic_zone())
            if start <= timezone.now():
                self.add_error("day", "the new time must be in the future")
            data["start"] = start
        return data

    @staticmethod
    def initial_for(start: datetime) -> dict:
        local = timezone.localtime(start)
        return {"day": local.date(), "time": local.time().replace(second=0, microsecond=0)}
