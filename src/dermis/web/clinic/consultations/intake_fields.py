"""Form fields for the health questions (`dermis.core.intake_questions`), as the clinic's
consultation form asks them and as the patient's portal asks them."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from pydantic import ValidationError

from dermis.core import patient as cp
from dermis.core.intake_questions import (
    SECTIONS,
    Audience,
    Question,
    asked,
    missing_follow_ups,
    screening_inputs,
)
from dermis.web.clinic.patients.forms import DateInput

YES_NO = [("no", "No"), ("yes", "Yes")]


def _yes(value: str) -> bool:
    return value == "yes"


def _field(q: Question, audience: Audience) -> forms.Field:
    label, help_text = q.wording(audience), q.help(audience)
    patient = audience == "patient"
    if q.kind == "yes_no":
        if patient:
            return forms.TypedChoiceField(
                label=label,
                choices=YES_NO,
                coerce=_yes,
                initial="no",
                widget=forms.RadioSelect,
                help_text=help_text,
            )
        return forms.BooleanField(label=label, required=False, help_text=help_text)
    if q.kind == "choice":
        choices = q.choice_labels(audience)
        if patient:
            return forms.ChoiceField(
                label=label,
                choices=choices,
                initial=choices[0][0],
                widget=forms.RadioSelect,
                help_text=help_text,
            )
        return forms.ChoiceField(label=label, choices=choices, help_text=help_text)
    if q.kind == "date":
        return forms.DateField(label=label, required=False, widget=DateInput(), help_text=help_text)
    if q.kind == "lines":
        return forms.CharField(
            label=label,
            required=False,
            widget=forms.Textarea(attrs={"rows": q.rows}),
            help_text=help_text,
        )
    return forms.MultipleChoiceField(  # areas: their choices come from the knowledge base
        label=label, required=False, widget=forms.CheckboxSelectMultiple, help_text=help_text
    )


def question_form(audience: Audience, name: str) -> type[forms.Form]:
    """A form class with one field for each question `audience` is asked, in the list's order."""
    attrs = {q.name: _field(q, audience) for q in asked(audience)}
    attrs["__module__"] = __name__
    return type(name, (forms.Form,), attrs)


def intake_of(cleaned: Mapping[str, object], prefix: str = "", **more) -> cp.Intake:
    """The answers as the core's Intake; cp.InputError names the field (after `prefix`)."""
    answers = {k: v for k, v in cleaned.items() if k in FIELD_NAMES}
    try:
        return cp.Intake(**screening_inputs(answers), **more)
    except ValidationError as exc:
        raise cp.input_error(exc, prefix) from None


def add_follow_up_errors(form: forms.Form) -> None:
    """Put 'tell us...' on each follow-up its question's answer needs but that was left empty."""
    answers = {k: v for k, v in form.cleaned_data.items() if k in FIELD_NAMES}
    for name, message in missing_follow_ups(answers).items():
        if name in form.fields:
            form.add_error(name, message)


def sections(form: forms.Form, audience: Audience) -> list[dict]:
    """The form's questions grouped as the clinic form shows them: [{legend, fields}]."""
    out = []
    for legend in SECTIONS:
        fields = [form[q.name] for q in asked(audience) if q.section == legend]
        if fields:
            out.append({"legend": legend, "fields": fields})
    return out


def _html(value: object) -> str:
    return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else str(value)


def patient_rows(form: forms.Form) -> list[dict]:
    """The patient's questions in order, each with the follow-ups it asks and on which answers
    (the values the page's script shows them for)."""
    questions = asked("patient")
    rows = []
    for q in questions:
        if q.follows:
            continue
        follow_ups = [f for f in questions if f.follows == q.name]
        shown_when = dict.fromkeys(_html(v) for f in follow_ups for v in f.asked_when)
        rows.append(
            {
                "field": form[q.name],
                "radio": q.kind in ("yes_no", "choice"),
                "follow_ups": [form[f.name] for f in follow_ups],
                "shown_when": " ".join(shown_when),
            }
        )
    return rows


FIELD_NAMES = frozenset(q.name for q in asked("clinic") + asked("patient"))
