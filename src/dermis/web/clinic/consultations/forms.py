"""The consultation form (intake, phototype, assessment), the adjust form, and the consent form.

Django forms check types; the core's pydantic models and planner check everything clinical, and
their errors (which name a core field such as `assessment.concerns[1].severity`) are put back
on the form field that caused them.
"""

from __future__ import annotations

import re

from django import forms
from pydantic import ValidationError

from dermis.core import patient as cp
from dermis.core.adjust import Change
from dermis.core.errors import InputError
from dermis.core.intake_questions import asked
from dermis.core.knowledge.schema import KnowledgeBase
from dermis.web.clinic.consultations.intake_fields import intake_of, question_form, sections
from dermis.web.clinic.consultations.services import decode_signature
from dermis.web.clinic.patients.forms import DateInput, ErrorSummaryMixin

PHOTOTYPES = [
    ("I", "I: always burns, never tans"),
    ("II", "II: usually burns, tans with difficulty"),
    ("III", "III: sometimes burns, tans gradually"),
    ("IV", "IV: rarely burns, tans easily"),
    ("V", "V: very rarely burns, tans very easily"),
    ("VI", "VI: never burns"),
]
GLOGAU = [
    ("", "Not graded"),
    ("I", "I: no wrinkles (early photoaging)"),
    ("II", "II: wrinkles in motion"),
    ("III", "III: wrinkles at rest"),
    ("IV", "IV: only wrinkles"),
]
PROCEDURES = [
    ("", "None"),
    ("filler", "Dermal filler"),
    ("laser", "Laser treatment"),
    ("chemical_peel", "Chemical peel"),
    ("botulinum_toxin", "Botulinum toxin"),
    ("surgery", "Surgery in the area"),
]
TEXT_LISTS = ("medical_history", "medications", "allergies")


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _area_choices(kb: KnowledgeBase) -> list[tuple[str, str]]:
    return [(key, area.name) for key, area in kb.areas.items()]


class ConsultationForm(ErrorSummaryMixin, question_form("clinic", "ClinicQuestions")):
    """The health questions as the practitioner asks them, then the skin assessment."""

    # Skin type and assessment
    fitzpatrick = forms.ChoiceField(
        label="Fitzpatrick skin type", choices=PHOTOTYPES, widget=forms.RadioSelect
    )
    glogau = forms.ChoiceField(label="Glogau photoaging type", choices=GLOGAU, required=False)
    skin_thickness = forms.ChoiceField(
        label="Skin thickness",
        choices=[("thin", "Thin"), ("normal", "Normal"), ("thick", "Thick")],
        initial="normal",
        widget=forms.RadioSelect,
    )
    goals = forms.CharField(
        label="The patient's goals",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line, in the patient's words.",
    )
    preferred_modality = forms.ChoiceField(
        label="Preferred treatment",
        choices=[
            ("", "No preference"),
            ("microneedling", "Microneedling"),
            ("microdermabrasion", "Microdermabrasion"),
        ],
        required=False,
    )

    def __init__(self, *args, kb: KnowledgeBase, **kwargs):
        super().__init__(*args, **kwargs)
        for q in asked("clinic"):
            if q.kind == "areas":
                self.fields[q.name].choices = _area_choices(kb)

    def question_sections(self) -> list[dict]:
        return sections(self, "clinic")


class ProcedureForm(forms.Form):
    kind = forms.ChoiceField(label="Procedure", choices=PROCEDURES, required=False)
    date = forms.DateField(label="Date", required=False, widget=DateInput())
    areas = forms.MultipleChoiceField(
        label="Areas treated (none ticked: all areas)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, kb: KnowledgeBase, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["areas"].choices = _area_choices(kb)

    def clean(self):
        data = super().clean()
        if data.get("kind") and not data.get("date"):
            self.add_error("date", "Give the date of the procedure.")
        if data.get("date") and not data.get("kind"):
            self.add_error("kind", "Choose which procedure was done on that date.")
        return data


class ConcernForm(forms.Form):
    area = forms.ChoiceField(label="Area", required=False)
    concern = forms.ChoiceField(label="Concern and its scale", required=False)
    severity = forms.FloatField(label="Grade on that scale", required=False)

    def __init__(self, *args, kb: KnowledgeBase, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", "Choose an area"), *_area_choices(kb)]
        self.fields["concern"].choices = [("", "Choose a concern")] + [
            (
                key,
                f"{c.name} ({kb.scales[c.scale].name}, {kb.scales[c.scale].min:g}"
                f"-{kb.scales[c.scale].max:g})",
            )
            for key, c in kb.concerns.items()
        ]

    def clean(self):
        data = super().clean()
        given = [data.get("area"), data.get("concern"), data.get("severity")]
        if any(v not in (None, "") for v in given):
            for name, value in zip(("area", "concern", "severity"), given, strict=True):
                if value in (None, "") and name not in self.errors:
                    self.add_error(name, f"Complete the row: the {name} is missing.")
        return data

    @property
    def filled(self) -> bool:
        return bool(self.cleaned_data.get("area"))


ProcedureFormSet = forms.formset_factory(ProcedureForm, extra=2, max_num=6, absolute_max=12)
ConcernFormSet = forms.formset_factory(ConcernForm, extra=4, max_num=12, absolute_max=24)
CORE_FIELD = re.compile(r"^(intake|assessment)\.(\w+)(?:\[(\d+)\])?(?:\.(\w+))?")


class ConsultationForms:
    """The questionnaire, the recent procedures and the concerns, validated as one."""

    def __init__(self, kb: KnowledgeBase, data=None, initial=None):
        initial = initial or {}
        self.main = ConsultationForm(data, kb=kb, initial=initial.get("main"))
        self.procedures = ProcedureFormSet(
            data, prefix="procedures", form_kwargs={"kb": kb}, initial=initial.get("procedures")
        )
        self.concerns = ConcernFormSet(
            data, prefix="concerns", form_kwargs={"kb": kb}, initial=initial.get("concerns")
        )
        self._rows: dict[str, list[int]] = {"recent_procedures": [], "concerns": []}

    def is_valid(self) -> bool:
        valid = all(
            [self.main.is_valid(), self.procedures.is_valid(), self.concerns.is_valid()]
        )  # all three, so every error shows at once
        if valid and not any(f.filled for f in self.concerns.forms):
            self.concerns.forms[0].add_error("area", "Add at least one concern to assess.")
            return False
        return valid

    def inputs(self) -> tuple[cp.Intake, cp.Assessment, str]:
        """The core's Intake and Assessment and the phototype; InputError names a core field."""
        d = self.main.cleaned_data
        procedures, self._rows["recent_procedures"] = [], []
        for i, form in enumerate(self.procedures.forms):
            if form.cleaned_data.get("kind"):
                self._rows["recent_procedures"].append(i)
                procedures.append({k: form.cleaned_data[k] for k in ("kind", "date", "areas")})
        concerns, self._rows["concerns"] = [], []
        for i, form in enumerate(self.concerns.forms):
            if form.filled:
                self._rows["concerns"].append(i)
                concerns.append({k: form.cleaned_data[k] for k in ("area", "concern", "severity")})
        intake = intake_of(d, "intake.", recent_procedures=procedures)
        try:
            assessment = cp.Assessment(
                glogau=d["glogau"] or None,
                skin_thickness=d["skin_thickness"],
                concerns=concerns,
                goals=_lines(d["goals"]),
                preferred_modality=d["preferred_modality"] or None,
            )
        except ValidationError as exc:
            raise cp.input_error(exc, "assessment.") from None
        return intake, assessment, d["fitzpatrick"]

    def add_core_error(self, err: InputError) -> None:
        """Show the core's error on the field that caused it (or above the form)."""
        match = CORE_FIELD.match(err.field)
        if err.field == "age":  # from the date of birth: the core plans for 16 and over
            message = f"Date of birth: the planner accepts ages 16 to 110 (the age {err.message})."
            self.main.add_error(None, message)
            return
        if err.field == "fitzpatrick":
            self.main.add_error("fitzpatrick", _sentence(err.message))
            return
        if match:
            _, name, index, sub = match.groups()
            if name in ("recent_procedures", "concerns") and index is not None and sub:
                rows = self._rows[name]
                formset = self.procedures if name == "recent_procedures" else self.concerns
                form = formset.forms[rows[int(index)]]
                if sub in form.fields:
                    form.add_error(sub, _sentence(err.message))
                    return
            if name in self.main.fields:
                self.main.add_error(name, _sentence(err.message))
                return
        self.main.add_error(None, f"{err.field}: {err.message}")

    def error_summary(self) -> list[dict]:
        items = self.main.error_summary()
        for title, formset in (("Recent procedure", self.procedures), ("Concern", self.concerns)):
            items += [{"id": "", "label": title, "message": e} for e in formset.non_form_errors()]
            for n, form in enumerate(formset.forms, start=1):
                for name, errors in form.errors.items():
                    label = f"{title} {n}: {form[name].label}"
                    items += [
                        {"id": form[name].auto_id, "label": label, "message": e} for e in errors
                    ]
        return items


def initial_from(intake: dict, assessment: dict | None, fitzpatrick: str) -> dict:
    """Initial form values from a stored intake/assessment (the previous consultation)."""
    main = {k: v for k, v in intake.items() if k != "recent_procedures"}
    for name in TEXT_LISTS:
        main[name] = "\n".join(intake.get(name, []))
    main["fitzpatrick"] = fitzpatrick or None
    concerns = []
    if assessment:
        main.update(
            glogau=assessment.get("glogau") or "",
            skin_thickness=assessment.get("skin_thickness", "normal"),
            goals="\n".join(assessment.get("goals", [])),
            preferred_modality=assessment.get("preferred_modality") or "",
        )
        concerns = [dict(c) for c in assessment.get("concerns", [])]
    return {"main": main, "procedures": intake.get("recent_procedures", []), "concerns": concerns}


ADJUST_FIELD = re.compile(r"^courses\[(\d+)\](?:\.treatments\[(\d+)\])?\.(\w+)$")


class AdjustForm(ErrorSummaryMixin, forms.Form):
    """Each course's sessions and interval, each treatment's depth or tip, and why they change.

    Starts at the plan's values; only what differs becomes a Change for the core to check.
    """

    def __init__(
        self, content: dict, bounds: list[dict], kb: KnowledgeBase, *args, note=False, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.content, self.bounds, self.summary_labels = content, bounds, {}
        self._rows = []
        for i, (course, cb) in enumerate(zip(content["courses"], bounds, strict=True)):
            name = kb.modalities[course["modality"]].name.split(" (")[0]
            row = {"course": course, "name": name, "fields": [], "treatments": []}
            for what, label in (
                ("sessions", "Sessions"),
                ("interval_days", "Days between sessions"),
            ):
                key = f"c{i}-{what}"
                self.fields[key] = forms.IntegerField(
                    label=label,
                    initial=course[what],
                    min_value=1,
                    max_value=365,
                    help_text=f"Allowed: {cb[what].describe()}.",
                )
                self.summary_labels[key] = f"{name}: {label.lower()}"
                row["fields"].append((key, cb[what]))
            row["reason"] = self._reason(f"c{i}-reason", f"{name}: reason for the change")
            for j, (t, tb) in enumerate(zip(course["treatments"], cb["treatments"], strict=True)):
                where = f"{kb.areas[t['area']].name}, {kb.concerns[t['concern']].name.lower()}"
                if course["modality"] == "microneedling":
                    key, label = f"c{i}-t{j}-depth_mm", "Needle depth (mm)"
                    self.fields[key] = forms.FloatField(
                        label=label,
                        initial=t["depth_mm"],
                        min_value=0.01,
                        max_value=5,
                        help_text=f"Allowed: {tb.describe()}.",
                    )
                else:
                    key, label = f"c{i}-t{j}-tip", "Tip"
                    tips = kb.devices[t["device"]].tips or {}
                    self.fields[key] = forms.ChoiceField(
                        label=label,
                        initial=t["tip"],
                        choices=[(k, k) for k in tips],
                        help_text=f"Allowed: {tb.describe()}.",
                    )
                self.summary_labels[key] = f"{where}: {label.lower()}"
                row["treatments"].append(
                    {
                        "treatment": t,
                        "where": where,
                        "field": key,
                        "bounds": tb,
                        "reason": self._reason(f"c{i}-t{j}-reason", f"{where}: reason"),
                    }
                )
            self._rows.append(row)
        if note:
            self.fields["note"] = forms.CharField(
                label="Note on this version",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def _reason(self, key: str, summary: str) -> str:
        self.fields[key] = forms.CharField(
            label="Reason for the change",
            required=False,
            max_length=300,
            help_text="Needed only if you change a value.",
        )
        self.summary_labels[key] = summary
        return key

    def rows(self, cite=None) -> list[dict]:
        """Courses and treatments with their bound fields, in plan order, for the template.

        `cite(key)` (a page's reference numbering) adds each limit's sources."""
        cite = cite or (lambda key: {"key": key, "number": key})
        out = []
        for row in self._rows:
            course_cites = dict.fromkeys(c for _, b in row["fields"] for c in b.citations)
            out.append(
                {
                    **row,
                    "fields": [(self[k], b) for k, b in row["fields"]],
                    "reason": self[row["reason"]],
                    "sources": [cite(c) for c in course_cites],
                    "treatments": [
                        {
                            **t,
                            "field": self[t["field"]],
                            "reason": self[t["reason"]],
                            "sources": [cite(c) for c in t["bounds"].citations],
                        }
                        for t in row["treatments"]
                    ],
                }
            )
        return out

    def changes(self) -> list[Change]:
        d = self.cleaned_data
        out = []
        for i, course in enumerate(self.content["courses"]):
            for what in ("sessions", "interval_days"):
                out.append(Change(i, what, d[f"c{i}-{what}"], d[f"c{i}-reason"]))
            for j, _ in enumerate(course["treatments"]):
                what = "depth_mm" if course["modality"] == "microneedling" else "tip"
                out.append(Change(i, what, d[f"c{i}-t{j}-{what}"], d[f"c{i}-t{j}-reason"], j))
        return out

    def add_core_error(self, err: InputError) -> None:
        match = ADJUST_FIELD.match(err.field)
        if match:
            course, treatment, what = match.groups()
            key = f"c{course}-" + (f"t{treatment}-" if treatment is not None else "") + what
            if key in self.fields:
                self.add_error(key, _sentence(err.message))
                return
        self.add_error(None, f"{err.field}: {err.message}")


class ConsentForm(ErrorSummaryMixin, forms.Form):
    consent_version = forms.CharField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label="The patient has read the consent text above, had their questions answered, "
        "and agrees to the plan"
    )
    signer_name = forms.CharField(
        label="Patient's full name, typed",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    signature = forms.CharField(
        label="Signature",
        widget=forms.HiddenInput,
        required=False,
        error_messages={"required": "Ask the patient to sign in the box."},
    )
    summary_labels = {"confirm": "Agreement", "signer_name": "Patient's full name"}

    def error_summary(self) -> list[dict]:
        # The hidden input cannot take focus: point at the signature box's fieldset instead.
        items = super().error_summary()
        for item in items:
            if item["id"] == self["signature"].auto_id:
                item["id"] = "signature-field"
        return items

    def clean_signature(self) -> bytes:
        try:
            return decode_signature(self.cleaned_data.get("signature") or "")
        except InputError as err:
            raise forms.ValidationError(f"The signature {err.message}.") from None
