"""The staff form that puts a patient on the waitlist (the service checks it all again)."""

from __future__ import annotations

from django import forms

from dermis.web.clinic.choice_fields import RowChoiceField
from dermis.web.clinic.models import MODALITIES, Appointment, Location, StaffMember, TreatmentPlan
from dermis.web.clinic.patients.forms import ErrorSummaryMixin

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class TimeInput(forms.TimeInput):
    input_type = "time"


class DateInput(forms.DateInput):
    input_type = "date"


class WaitlistForm(ErrorSummaryMixin, forms.Form):
    practitioner = RowChoiceField(
        queryset=StaffMember.objects.none(), required=False, empty_label="Any practitioner"
    )
    location = RowChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="Any location"
    )
    kind = forms.ChoiceField(choices=Appointment.Kind.choices, label="Kind of appointment")
    modality = forms.ChoiceField(
        choices=[("", "As the plan says"), *MODALITIES], label="Treatment", required=False
    )
    plan = RowChoiceField(
        queryset=TreatmentPlan.objects.none(),
        required=False,
        empty_label="No plan",
        label="For the next session of",
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Days that suit (none ticked: any day)",
    )
    earliest = forms.TimeField(required=False, widget=TimeInput(), label="Not before")
    latest = forms.TimeField(required=False, widget=TimeInput(), label="Finished by")
    before = forms.DateField(required=False, widget=DateInput(), label="Only slots before")
    minutes = forms.IntegerField(initial=60, required=False, label="Length (minutes)")

    def __init__(self, *args, clinic, patient, **kwargs):
        super().__init__(*args, **kwargs)
        practitioners = StaffMember.objects.filter(
            clinic=clinic, role__in=("practitioner", "admin")
        ).order_by("display_name")
        self.fields["practitioner"].queryset = practitioners
        self.fields["practitioner"].label_from_instance = lambda s: s.display_name
        self.fields["location"].queryset = clinic.locations.all()
        self.fields["location"].label_from_instance = lambda loc: loc.name
        self.fields["plan"].queryset = TreatmentPlan.objects.filter(patient=patient)
        self.fields["plan"].label_from_instance = lambda p: (
            f"Plan {p.pk} ({p.get_status_display()})"
        )

    def clean_minutes(self) -> int:
        # Blank means the usual hour, as in the API.
        minutes = self.cleaned_data.get("minutes")
        return 60 if minutes is None else minutes
