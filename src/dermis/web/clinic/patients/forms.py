"""Patient demographics, patient search, and the simple appointment form."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import forms
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace
from django.utils import timezone

from dermis.web.clinic.models import Appointment, Location, Patient, StaffMember


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
        fields = [
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "phone",
            "email",
            "address",
            "email_reminders",
            "sms_reminders",
        ]
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
        dob = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if dob > today:
            raise forms.ValidationError("Date of birth cannot be in the future.")
        if dob.year < today.year - 120:
            raise forms.ValidationError("Date of birth is more than 120 years ago: check the year.")
        return dob


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def parse_date(text: str) -> date | None:
    """A date typed as YYYY-MM-DD or DD/MM/YYYY, else None."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


class PatientSearchForm(forms.Form):
    """One search for the list page and the API: name, phone, email or date of birth."""

    q = forms.CharField(
        label="Search patients",
        required=False,
        max_length=100,
        help_text="Name, phone, email, or date of birth (YYYY-MM-DD or DD/MM/YYYY).",
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def search(self, patients: QuerySet[Patient]) -> QuerySet[Patient]:
        if not self.is_valid():
            return patients.none()
        q = self.cleaned_data["q"].strip()
        if not q:
            return patients
        born = parse_date(q)
        if born is not None:
            return patients.filter(date_of_birth=born)
        # Phones are stored as typed ("07700 900123"): compare without spaces and dashes too.
        compact = Replace(Replace("phone", Value(" "), Value("")), Value("-"), Value(""))
        patients = patients.annotate(phone_compact=compact)
        for term in q.split():
            match = (
                Q(given_name__icontains=term)
                | Q(family_name__icontains=term)
                | Q(email__icontains=term)
                | Q(phone__icontains=term)
            )
            digits = term.replace("-", "")
            if digits.lstrip("+").isdigit():
                match |= Q(phone_compact__contains=digits)
            patients = patients.filter(match)
        return patients


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class AppointmentForm(ErrorSummaryMixin, forms.Form):
    """Book one appointment. The overlap check here gives a clear message; the database is the
    final referee (booking.book raises SlotTaken if another booking got there first)."""

    practitioner = forms.ModelChoiceField(queryset=StaffMember.objects.none(), label="Practitioner")
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), label="Location", required=False
    )
    kind = forms.ChoiceField(choices=Appointment.Kind.choices, label="Kind of appointment")
    start = forms.DateTimeField(label="Start", widget=DateTimeInput())
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", initial=60, help_text="From 5 minutes to 8 hours."
    )
    notes = forms.CharField(label="Front-desk note (not clinical)", max_length=300, required=False)

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = StaffMember.objects.filter(
            clinic=clinic, role__in=("practitioner", "admin")
        ).order_by("display_name")
        self.fields["practitioner"].label_from_instance = lambda s: s.display_name
        self.fields["location"].queryset = clinic.locations.all()
        self.fields["location"].label_from_instance = lambda loc: loc.name

    def clean_duration_minutes(self) -> int:
        minutes = self.cleaned_data["duration_minutes"]
        if minutes <= 0:
            raise forms.ValidationError("The appointment must end after it starts.")
        if not 5 <= minutes <= 480:
            raise forms.ValidationError("Duration must be between 5 and 480 minutes.")
        return minutes

    def clean(self):
        data = super().clean()
        start, minutes, who = (
            data.get("start"),
            data.get("duration_minutes"),
            data.get("practitioner"),
        )
        if start is None or minutes is None:
            return data
        data["end"] = end = start + timedelta(minutes=minutes)
        if end <= start:
            self.add_error("duration_minutes", "The appointment must end after it starts.")
        elif who is not None:
            clash = (
                Appointment.objects.filter(practitioner=who, start__lt=end, end__gt=start)
                .exclude(status=Appointment.Status.CANCELLED)
                .order_by("start")
                .first()
            )
            if clash is not None:
                self.add_error("start", overlap_message(who, clash))
        return data


def overlap_message(who: StaffMember, clash: Appointment | None = None) -> str:
    if clash is None:
        return f"{who.display_name} is already booked at that time. Choose another time."
    local = timezone.localtime
    return (
        f"{who.display_name} already has an appointment from {local(clash.start):%H:%M} to "
        f"{local(clash.end):%H:%M} on {local(clash.start):%d %b %Y}. Choose another time."
    )
