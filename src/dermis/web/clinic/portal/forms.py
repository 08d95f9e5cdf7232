"""The portal's forms: the health questions (the consultation intake's questions in plain words,
with follow-ups), a new patient's details and their choice of slot."""

from __future__ import annotations

from django import forms
from pydantic import ValidationError

from dermis.core import patient as cp
from dermis.web.clinic.consultations.forms import ConsultationForm
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.patients.forms import DateInput
from dermis.web.clinic.patients.services import check_date_of_birth

YES_NO = [("no", "No"), ("yes", "Yes")]
INTERESTS = [
    ("", "Not sure yet"),
    ("microneedling", "Microneedling"),
    ("microdermabrasion", "Microdermabrasion"),
]
ISOTRETINOIN = [
    ("never", "No, never"),
    ("now", "Yes, I take it now"),
    ("past", "Yes, in the past"),
]
# The consultation form's yes/no questions the patient answers, in the patient's words.
QUESTIONS = {
    "anticoagulants": "Do you take blood thinners (such as warfarin, apixaban or rivaroxaban)?",
    "immunosuppressed": "Is your immune system weakened by an illness or by medicines?",
    "metal_allergy": "Are you allergic to nickel or other metals?",
    "pregnant": "Are you pregnant?",
    "breastfeeding": "Are you breastfeeding?",
    "keloid_history": "Have you ever had keloid scars (thick scars that grow past the wound)?",
    "hypertrophic_scar_history": "Have you ever had raised scars?",
    "herpes_simplex_history": "Do you get cold sores?",
    "rosacea": "Do you have rosacea?",
}


def _yes_no(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=YES_NO, initial="no", widget=forms.RadioSelect)


class IntakeForm(forms.Form):
    """The screening's inputs, asked as a patient would be asked."""

    takes_medicines = _yes_no("Do you take any medicines or supplements?")
    medications = forms.CharField(
        label="Which medicines or supplements?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    isotretinoin = forms.ChoiceField(
        label="Have you ever taken isotretinoin (Roaccutane) tablets?",
        choices=ISOTRETINOIN,
        initial="never",
        widget=forms.RadioSelect,
    )
    isotretinoin_last_dose = forms.DateField(
        label="When was your last dose?",
        required=False,
        widget=DateInput(),
        help_text="Your best guess is fine.",
    )
    medical_history = forms.CharField(
        label="Any health conditions?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. Leave empty if none.",
    )
    allergies = forms.CharField(
        label="Any allergies?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: medicines, numbing creams, metals, latex.",
    )
    diabetes = forms.ChoiceField(
        label="Do you have diabetes?",
        choices=[
            ("none", "No"),
            ("controlled", "Yes, well controlled"),
            ("uncontrolled", "Yes, not well controlled"),
        ],
        initial="none",
        widget=forms.RadioSelect,
    )
    recent_tan_or_sunburn = forms.DateField(
        label="When did you last have a tan or sunburn on the skin to be treated?",
        required=False,
        widget=DateInput(),
        help_text="Leave empty if not in the last few months.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The same questions the practitioner's consultation form asks, in the same order.
        for name in QUESTIONS:
            assert name in ConsultationForm.base_fields, name
            self.fields[name] = _yes_no(QUESTIONS[name])

    def clean(self):
        data = super().clean()
        if data.get("takes_medicines") == "yes" and not (data.get("medications") or "").strip():
            self.add_error("medications", "Tell us which medicines or supplements you take.")
        if data.get("isotretinoin") == "past" and not data.get("isotretinoin_last_dose"):
            self.add_error("isotretinoin_last_dose", "Tell us roughly when your last dose was.")
        return data

    def intake(self) -> cp.Intake:
        """The answers as the core's Intake (raises cp.InputError naming the field)."""
        d = self.cleaned_data

        def lines(name: str) -> list[str]:
            return [x.strip() for x in (d.get(name) or "").splitlines() if x.strip()]

        values = {name: d.get(name) == "yes" for name in QUESTIONS}
        medicines = lines("medications") if d.get("takes_medicines") == "yes" else []
        try:
            return cp.Intake(
                medical_history=lines("medical_history"),
                medications=medicines,
                allergies=lines("allergies"),
                diabetes=d.get("diabetes") or "none",
                isotretinoin_current=d.get("isotretinoin") == "now",
                isotretinoin_last_dose=(
                    d.get("isotretinoin_last_dose") if d.get("isotretinoin") != "never" else None
                ),
                recent_tan_or_sunburn=d.get("recent_tan_or_sunburn"),
                **values,
            )
        except ValidationError as exc:
            raise cp.input_error(exc) from None


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
