"""The portal's forms: the health questions (the consultation intake's questions in plain words,
with follow-ups), a new patient's details and their choice of slot."""

from __future__ import annotations

from django import forms

from dermis.core import patient as cp
from dermis.web.clinic.consultations.intake_fields import (
    add_follow_up_errors,
    intake_of,
    patient_rows,
    question_form,
)
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.patients.forms import DateInput
from dermis.web.clinic.patients.services import check_date_of_birth

INTERESTS = [
    ("", "Not sure yet"),
    ("microneedling", "Microneedling"),
    ("microdermabrasion", "Microdermabrasion"),
]


class IntakeForm(question_form("patient", "PatientQuestions")):
    """The screening's inputs, asked as a patient would be asked: the same questions as the
    practitioner's consultation form, in plain words, with their follow-ups."""

    def clean(self):
        data = super().clean()
        add_follow_up_errors(self)
        return data

    def rows(self) -> list[dict]:
        return patient_rows(self)

    def intake(self) -> cp.Intake:
        """The answers as the core's Intake (raises cp.InputError naming the field)."""
        return intake_of(self.cleaned_data)


class DetailsForm(forms.Form):
    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = forms.DateField(label="Date of birth", widget=DateInput())
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label="Mobile phone",
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    interest = forms.ChoiceField(
        label="Which treatment are you interested in?", choices=INTERESTS, required=False
    )

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        try:
            check_date_of_birth(dob)
        except ServiceError as err:
            raise forms.ValidationError(sentence(err.message)) from None
        return dob


class SlotForm(forms.Form):
    slot = forms.ChoiceField(
        label="Choose a time",
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "That time is no longer free: choose one of the times shown."
        },
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = list(choices)


class PractitionerChoice(forms.Form):
    """On a location's booking page: whose free times to show."""

    practitioner = forms.ChoiceField(label="Practitioner", required=False)

    def __init__(self, *args, practitioners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].choices = [
            ("", "Any practitioner"),
            *((str(p.pk), p.display_name) for p in practitioners),
        ]
