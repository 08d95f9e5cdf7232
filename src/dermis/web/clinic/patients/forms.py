"""Patient demographics, patient search, and the simple appointment form."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from dermis.web.clinic.choice_fields import RowChoiceField
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.models import MODALITIES, Appointment, Location, Patient, StaffMember
from dermis.web.clinic.patients.filters import PatientFilter
from dermis.web.clinic.patients.services import DEMOGRAPHICS, check_date_of_birth
from dermis.web.clinic.scheduling import rules


class ErrorSummaryMixin:
    """`error_summary()`: each error with its field's label and id, for the box above a form."""

    summary_labels: dict[str, str] = {}

    def error_summary(self) -> list[dict]:
        items = []
        for name, errors in self.errors.items():
            if name == forms.forms.NON_FIELD_ERRORS:
                items += [{"id": "", "label": "", "message": e} for e in errors]
                continue
            bound = self[name]
            label = self.summary_labels.get(name) or bound.label or name
            items += [{"id": bound.auto_id, "label": label, "message": e} for e in errors]
        return items


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class PatientForm(ErrorSummaryMixin, forms.ModelForm):
    class Meta:
        model = Patient
        fields = list(DEMOGRAPHICS)
        labels = {
            "given_name": "Given name",
            "family_name": "Family name",
            "date_of_birth": "Date of birth",
            "sex": "Sex",
            "phone": "Phone",
            "email": "Email",
            "address": "Address",
            "email_reminders": "Send reminders by email",
            "sms_reminders": "Send reminders by text message",
        }
        widgets = {
            "date_of_birth": DateInput(),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }

    def clean_date_of_birth(self) -> date:
        # The service's own rule, so every error shows at once; the service checks it again.
        dob = self.cleaned_data["date_of_birth"]
        try:
            check_date_of_birth(dob)
        except ServiceError as err:
            raise forms.ValidationError(sentence(err.message)) from None
        return dob


class RegisterPatientForm(PatientForm):
    """Registration: the demographics, and the answer to "is this someone we already have?"."""

    confirm_not_duplicate = forms.BooleanField(
        required=False,
        label="This is a different person: register anyway",
        help_text="Only after checking the records listed above.",
    )


class MergePatientForm(ErrorSummaryMixin, forms.Form):
    """Merge a duplicate into the record being looked at (admins)."""

    merge_away_id = forms.IntegerField(
        min_value=1,
        label="Patient id of the duplicate",
        help_text="Its appointments, consultations, plans, sessions, photos and everything else "
        "move to this record; its id will lead here.",
    )
    confirm = forms.BooleanField(
        required=True, label="I have checked that both records are the same person"
    )


class PatientSearchForm(forms.Form):
    """One search for the list page and the API: name, phone, email or date of birth."""

    q = forms.CharField(
        label="Search patients",
        required=False,
        max_length=100,
        help_text="Name (accents optional), phone in any form, email, or date of birth "
        "(14/07/1988, 14.07.1988, 1988-07-14 or 14 Jul 1988).",
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def filter(self) -> PatientFilter | None:
        """The search as the one patient filter (None when the form is invalid)."""
        if not self.is_valid():
            return None
        return PatientFilter(q=self.cleaned_data["q"])


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class AppointmentForm(ErrorSummaryMixin, forms.Form):
    """Book one appointment. The scheduling service applies the booking rules and, for a
    treatment, the safety gate; the database referees double-booking."""

    practitioner = RowChoiceField(queryset=StaffMember.objects.none(), label="Practitioner")
    location = RowChoiceField(queryset=Location.objects.none(), label="Location", required=False)
    kind = forms.ChoiceField(choices=Appointment.Kind.choices, label="Kind of appointment")
    modality = forms.ChoiceField(
        choices=[("", "As the plan says"), *MODALITIES],
        label="Treatment",
        required=False,
        help_text="For a treatment session without an accepted plan, say which.",
    )
    start = forms.DateTimeField(label="Start", widget=DateTimeInput())
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", initial=60, help_text="From 5 minutes to 8 hours."
    )
    notes = forms.CharField(label="Front-desk note (not clinical)", max_length=300, required=False)
    precare_done = forms.BooleanField(
        label="Pre-care was done (practitioner)",
        required=False,
        help_text="Only when the session is sooner than its pre-care lead time.",
    )
    override_reason = forms.CharField(
        label="Reason to go ahead despite a relative finding (practitioner)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = StaffMember.objects.filter(
            clinic=clinic, role__in=("practitioner", "admin")
        ).order_by("display_name")
        self.fields["practitioner"].label_from_instance = lambda s: s.display_name
        self.fields["location"].queryset = clinic.locations.all()
        self.fields["location"].label_from_instance = lambda loc: loc.name

    def clean(self):
        data = super().clean()
        start, minutes = data.get("start"), data.get("duration_minutes")
        if start is None or minutes is None:
            return data
        data["end"] = start + timedelta(minutes=minutes)
        try:  # the service's own rule, so it shows with the other errors
            rules.check_length(start, data["end"])
        except ServiceError as err:
            self.add_error("duration_minutes", sentence(err.message))
        return data


def overlap_message(who: StaffMember, clash: Appointment | None = None) -> str:
    if clash is None:
        return f"{who.display_name} is already booked at that time. Choose another time."
    local = timezone.localtime
    return (
        f"{who.display_name} already has an appointment from {local(clash.start):%H:%M} to "
        f"{local(clash.end):%H:%M} on {local(clash.start):%d %b %Y}. Choose another time."
    )
